// purpose: corrupts valid messages the ways pooler CVEs came from: bad lengths and counts, truncation, NULs, bad UTF-8
package io.pgbalancer.fuzz;

import java.util.Arrays;
import java.util.SplittableRandom;

public final class Mutate {
    /** Values for a length field: negative, below the 4-byte minimum, off by one, at and past the limits. */
    static final int[] INTERESTING_INTS = {0, 1, 2, 3, 4, 5, 7, 8, 9, -1, -2, -4, -5, Integer.MIN_VALUE,
        Integer.MAX_VALUE, Integer.MAX_VALUE - 3, 0x7FFFFFF0, 0x8000, 0xFFFF, 0x10000, 1023, 1024, 1025, 9_999, 10_000,
        10_001, 1 << 20, (1 << 20) + 1, 1 << 30};
    /** Values for an int16 count: zero, off by one, the sign bit, all ones. */
    static final int[] INTERESTING_SHORTS = {0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFF, 0xFFFE, 100, 1000};
    /** Malformed UTF-8: overlong NUL, bytes never valid, lone continuation, truncated sequences, surrogates, > U+10FFFF. */
    static final byte[][] BAD_UTF8 = {
        {(byte) 0xC0, (byte) 0x80}, {(byte) 0xFF}, {(byte) 0xFE}, {(byte) 0x80}, {(byte) 0xBF},
        {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC3}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0xAF},
        {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}};

    private Mutate() {
    }

    /** One to three corruptions of {@code m}: first of its length and count fields (when it has them), then of bytes. */
    public static byte[] mutate(SplittableRandom r, Msg m) {
        byte[] b = m.bytes().clone();
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            if (r.nextInt(3) < 2 && (m.int32s().length > 0 || m.int16s().length > 0)) {
                b = field(r, m, b);
            } else {
                b = bytes(r, b);
            }
        }
        return b;
    }

    /** Sets a length or count field of {@code m} (in {@code b}, which still has m's layout up to its end) to a bad value. */
    static byte[] field(SplittableRandom r, Msg m, byte[] b) {
        boolean useInt = m.int16s().length == 0 || (m.int32s().length > 0 && r.nextBoolean());
        if (useInt) {
            int at = m.int32s()[r.nextInt(m.int32s().length)];
            if (at + 4 > b.length) {
                return b;
            }
            int actual = getInt(b, at);
            int v = switch (r.nextInt(4)) {
                case 0 -> INTERESTING_INTS[r.nextInt(INTERESTING_INTS.length)];
                case 1 -> actual + r.nextInt(-3, 4);
                case 2 -> actual + r.nextInt(1, 1 << 16);
                default -> -actual;
            };
            setInt(b, at, v);
        } else {
            int at = m.int16s()[r.nextInt(m.int16s().length)];
            if (at + 2 > b.length) {
                return b;
            }
            int actual = ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
            int v = r.nextBoolean() ? INTERESTING_SHORTS[r.nextInt(INTERESTING_SHORTS.length)]
                    : actual + r.nextInt(-2, 3);
            b[at] = (byte) (v >>> 8);
            b[at + 1] = (byte) v;
        }
        return b;
    }

    /** A byte-level corruption: truncation, extension, bit flips, NULs, bad UTF-8, deletion, duplication. */
    public static byte[] bytes(SplittableRandom r, byte[] b) {
        int len = b.length;
        switch (r.nextInt(10)) {
            case 0 -> {
                return Arrays.copyOf(b, len == 0 ? 0 : r.nextInt(len)); // truncated
            }
            case 1 -> {
                return concat(b, random(r, 1 + r.nextInt(16))); // trailing garbage
            }
            case 2 -> {
                if (len > 0) {
                    int at = r.nextInt(len);
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 3 -> {
                if (len > 0) {
                    b[r.nextInt(len)] = (byte) r.nextInt(256);
                }
                return b;
            }
            case 4 -> {
                return insert(b, r.nextInt(len + 1), new byte[] {0}); // embedded NUL
            }
            case 5 -> {
                return insert(b, r.nextInt(len + 1), BAD_UTF8[r.nextInt(BAD_UTF8.length)]);
            }
            case 6 -> {
                if (len == 0) {
                    return b;
                }
                int from = r.nextInt(len);
                int to = from + 1 + r.nextInt(Math.min(16, len - from));
                return concat(Arrays.copyOf(b, from), Arrays.copyOfRange(b, to, len)); // a range deleted
            }
            case 7 -> {
                if (len == 0) {
                    return b;
                }
                int from = r.nextInt(len);
                int to = from + 1 + r.nextInt(Math.min(32, len - from));
                return insert(b, to, Arrays.copyOfRange(b, from, to)); // a range repeated
            }
            case 8 -> {
                if (len < 4) {
                    return b;
                }
                int at = r.nextInt(len - 3);
                setInt(b, at, INTERESTING_INTS[r.nextInt(INTERESTING_INTS.length)]); // an int anywhere
                return b;
            }
            default -> {
                if (len > 0) {
                    int at = r.nextInt(len);
                    b[at] = (byte) (r.nextBoolean() ? 0 : 0xFF);
                }
                return b;
            }
        }
    }

    public static byte[] random(SplittableRandom r, int n) {
        byte[] out = new byte[n];
        r.nextBytes(out);
        return out;
    }

    /** Cut points for feeding {@code length} bytes in chunks: sorted, inside (0, length), sometimes none. */
    public static int[] splits(SplittableRandom r, int length) {
        if (length < 2 || r.nextInt(4) == 0) {
            return new int[0];
        }
        int n = r.nextInt(4) == 0 ? Math.min(length - 1, 1 + r.nextInt(64)) : 1 + r.nextInt(Math.min(4, length - 1));
        int[] cuts = new int[n];
        for (int i = 0; i < n; i++) {
            cuts[i] = 1 + r.nextInt(length - 1);
        }
        Arrays.sort(cuts);
        return cuts;
    }

    public static int getInt(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    public static void setInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    public static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }
}

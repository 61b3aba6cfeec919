// purpose: a generated wire message with the offsets of its length and count fields, so mutations can aim at them
package io.pgbalancer.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@code int32s} are offsets of int32 fields that hold a length (the frame length, a SASL data length, a Bind parameter
 * length), {@code int16s} offsets of int16 counts (parameter, format, column counts).
 */
public record Msg(byte[] bytes, int[] int32s, int[] int16s) {

    public static Writer typed(char type) {
        return new Writer(type);
    }

    /** A startup-phase packet: length then payload, no type byte. */
    public static Writer untyped() {
        return new Writer(null);
    }

    public static Msg raw(byte[] bytes) {
        return new Msg(bytes, new int[0], new int[0]);
    }

    public int length() {
        return bytes.length;
    }

    /** Concatenates messages, shifting their field offsets. */
    public static Msg concat(java.util.List<Msg> parts) {
        int size = 0;
        int n32 = 0;
        int n16 = 0;
        for (Msg m : parts) {
            size += m.bytes.length;
            n32 += m.int32s.length;
            n16 += m.int16s.length;
        }
        byte[] out = new byte[size];
        int[] o32 = new int[n32];
        int[] o16 = new int[n16];
        int at = 0;
        int i32 = 0;
        int i16 = 0;
        for (Msg m : parts) {
            System.arraycopy(m.bytes, 0, out, at, m.bytes.length);
            for (int o : m.int32s) {
                o32[i32++] = at + o;
            }
            for (int o : m.int16s) {
                o16[i16++] = at + o;
            }
            at += m.bytes.length;
        }
        return new Msg(out, o32, o16);
    }

    /** Builds a message; the frame length is filled in by {@link #done()}. */
    public static final class Writer {
        private byte[] buf = new byte[64];
        private int pos;
        private int[] int32s = new int[4];
        private int n32;
        private int[] int16s = new int[4];
        private int n16;

        Writer(Character type) {
            if (type != null) {
                raw((byte) type.charValue());
            }
            lengthField(0);
        }

        private void ensure(int n) {
            if (pos + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
            }
        }

        public Writer raw(byte b) {
            ensure(1);
            buf[pos++] = b;
            return this;
        }

        public Writer raw(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, pos, b.length);
            pos += b.length;
            return this;
        }

        public Writer int32(int v) {
            ensure(4);
            buf[pos++] = (byte) (v >>> 24);
            buf[pos++] = (byte) (v >>> 16);
            buf[pos++] = (byte) (v >>> 8);
            buf[pos++] = (byte) v;
            return this;
        }

        public Writer int16(int v) {
            ensure(2);
            buf[pos++] = (byte) (v >>> 8);
            buf[pos++] = (byte) v;
            return this;
        }

        /** An int32 that is a length: mutations aim at it. */
        public Writer lengthField(int v) {
            if (n32 == int32s.length) {
                int32s = Arrays.copyOf(int32s, n32 * 2);
            }
            int32s[n32++] = pos;
            return int32(v);
        }

        /** An int16 that is a count: mutations aim at it. */
        public Writer count(int v) {
            if (n16 == int16s.length) {
                int16s = Arrays.copyOf(int16s, n16 * 2);
            }
            int16s[n16++] = pos;
            return int16(v);
        }

        /** A C string: the bytes then NUL (the bytes may hold NULs or invalid UTF-8 themselves). */
        public Writer cstr(byte[] b) {
            return raw(b).raw((byte) 0);
        }

        public Writer cstr(String s) {
            return cstr(s.getBytes(StandardCharsets.UTF_8));
        }

        public int position() {
            return pos;
        }

        public Msg done() {
            int lengthAt = int32s[0];
            int len = pos - lengthAt;
            buf[lengthAt] = (byte) (len >>> 24);
            buf[lengthAt + 1] = (byte) (len >>> 16);
            buf[lengthAt + 2] = (byte) (len >>> 8);
            buf[lengthAt + 3] = (byte) len;
            return new Msg(Arrays.copyOf(buf, pos), Arrays.copyOf(int32s, n32), Arrays.copyOf(int16s, n16));
        }
    }
}

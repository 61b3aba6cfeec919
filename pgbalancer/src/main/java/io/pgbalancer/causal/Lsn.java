// A WAL position (pg_lsn) as an unsigned 64-bit number: parsing and printing PostgreSQL's "16/B374D848" form.
package io.pgbalancer.causal;

/** Positions compare with {@link Long#compareUnsigned}; 0 means "none" (no WAL position is ever 0/0 in use). */
public final class Lsn {
    public static final long NONE = 0;

    private Lsn() {
    }

    /**
     * Parses {@code hi/lo} (each 1 to 8 hex digits, as PostgreSQL prints and accepts a pg_lsn).
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static long parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 1 || slash > 8 || text.length() - slash - 1 < 1 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException(invalid(text));
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            if (hi < 0 || lo < 0 || text.charAt(0) == '+' || text.charAt(slash + 1) == '+'
                    || text.charAt(0) == '-' || text.charAt(slash + 1) == '-') {
                throw new IllegalArgumentException(invalid(text));
            }
            return hi << 32 | lo;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(invalid(text), e);
        }
    }

    private static String invalid(String text) {
        return "invalid WAL position \"" + text + "\": expected two hexadecimal numbers separated by a slash, like"
                + " 0/16B3740";
    }

    /** PostgreSQL's own spelling: upper-case hex, no leading zeros. */
    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /** Whether position {@code a} is at or after {@code b}. */
    public static boolean reached(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0;
    }

    /** The later of two positions. */
    public static long max(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** Bytes from {@code behind} to {@code ahead}, 0 when {@code behind} is not behind. */
    public static long distance(long ahead, long behind) {
        return Long.compareUnsigned(ahead, behind) > 0 ? ahead - behind : 0;
    }
}

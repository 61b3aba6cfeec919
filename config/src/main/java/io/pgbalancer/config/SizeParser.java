// purpose: parses byte sizes such as 65536, 64kB, 256MB, 1GiB (PostgreSQL convention: kB = 1024 bytes)
package io.pgbalancer.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes are a non-negative integer optionally followed by a unit. As in postgresql.conf, the units are
 * powers of 1024: {@code B}, {@code kB} (or {@code KB}/{@code KiB}), {@code MB}/{@code MiB},
 * {@code GB}/{@code GiB}, {@code TB}/{@code TiB}. A bare number is bytes. Units are case-sensitive.
 */
final class SizeParser {
    static final String EXPECTATION = "a size such as 65536, 64kB, 256MB or 1GiB";

    private static final long KIB = 1024L;
    private static final Pattern FORMAT = Pattern.compile("([0-9]{1,18})\\s*([A-Za-z]*)");
    private static final Map<String, Long> UNITS = Map.ofEntries(
            Map.entry("", 1L), Map.entry("B", 1L),
            Map.entry("kB", KIB), Map.entry("KB", KIB), Map.entry("KiB", KIB),
            Map.entry("MB", KIB * KIB), Map.entry("MiB", KIB * KIB),
            Map.entry("GB", KIB * KIB * KIB), Map.entry("GiB", KIB * KIB * KIB),
            Map.entry("TB", KIB * KIB * KIB * KIB), Map.entry("TiB", KIB * KIB * KIB * KIB));

    private SizeParser() {
    }

    /**
     * Returns the size in bytes, or null if {@code text} is not a size.
     *
     * @throws ArithmeticException if the size does not fit in a long
     */
    static Long parse(String text) {
        Matcher m = FORMAT.matcher(text);
        if (!m.matches()) {
            return null;
        }
        Long multiplier = UNITS.get(m.group(2));
        if (multiplier == null) {
            return null;
        }
        return Math.multiplyExact(Long.parseLong(m.group(1)), multiplier);
    }
}

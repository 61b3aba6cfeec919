// purpose: parses durations written as an integer plus unit: 500ms, 5s, 10m, 1h, 2d
package io.pgbalancer.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

final class DurationParser {
    static final String EXPECTATION = "a duration such as 500ms, 5s, 10m or 1h";

    private static final Pattern FORMAT = Pattern.compile("(-?)([0-9]{1,18})(ms|s|m|h|d)");
    private static final Map<String, ChronoUnit> UNITS = Map.of(
            "ms", ChronoUnit.MILLIS,
            "s", ChronoUnit.SECONDS,
            "m", ChronoUnit.MINUTES,
            "h", ChronoUnit.HOURS,
            "d", ChronoUnit.DAYS);

    private DurationParser() {
    }

    /**
     * Returns the duration (negative if written with a leading minus), or null if {@code text} is not an
     * integer followed by one of the units ms, s, m, h, d (bare numbers have no unit and are rejected).
     *
     * @throws ArithmeticException if the value does not fit in a {@link Duration}
     */
    static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text);
        if (!m.matches()) {
            return null;
        }
        Duration magnitude = Duration.of(Long.parseLong(m.group(2)), UNITS.get(m.group(3)));
        return m.group(1).isEmpty() ? magnitude : magnitude.negated();
    }

    /**
     * A non-negative duration in the largest unit that represents it exactly ({@code 60s}, {@code 1500ms},
     * {@code 2d}); never overflows for durations {@link #parse} returns (unlike {@link Duration#toMillis()}).
     */
    static String format(Duration d) {
        long seconds = d.getSeconds();
        int millis = d.getNano() / 1_000_000;
        if (millis != 0 || seconds == 0) {
            return (seconds * 1000 + millis) + "ms";
        }
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}

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
}

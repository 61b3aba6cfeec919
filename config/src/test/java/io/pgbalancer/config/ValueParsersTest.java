// purpose: unit tests for DurationParser (parse and format) and SizeParser
package io.pgbalancer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValueParsersTest {
    @Test
    void durationUnits() {
        assertEquals(Duration.ofMillis(500), DurationParser.parse("500ms"));
        assertEquals(Duration.ofSeconds(5), DurationParser.parse("5s"));
        assertEquals(Duration.ofMinutes(10), DurationParser.parse("10m"));
        assertEquals(Duration.ofHours(1), DurationParser.parse("1h"));
        assertEquals(Duration.ofDays(2), DurationParser.parse("2d"));
        assertEquals(Duration.ZERO, DurationParser.parse("0s"));
        assertEquals(Duration.ofSeconds(-5), DurationParser.parse("-5s"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5", "0", "s", "5S", "5 s", " 5s", "5sec", "1.5s", "5us", "1h30m", "+5s", "5ms5"})
    void notDurations(String text) {
        assertNull(DurationParser.parse(text));
    }

    @Test
    void durationOverflow() {
        assertThrows(ArithmeticException.class, () -> DurationParser.parse("999999999999999999d"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0s            | 0ms",
        "1ms           | 1ms",
        "1500ms        | 1500ms",
        "1000ms        | 1s",
        "90s           | 90s",
        "60s           | 1m",
        "120m          | 2h",
        "48h           | 2d",
        "200000000000d | 200000000000d",
        "999999999999999999ms | 999999999999999999ms",
    })
    void durationFormatUsesTheLargestExactUnit(String text, String formatted) {
        assertEquals(formatted, DurationParser.format(DurationParser.parse(text)));
    }

    @Test
    void sizeUnitsArePowersOf1024() {
        assertEquals(65536L, SizeParser.parse("65536"));
        assertEquals(100L, SizeParser.parse("100B"));
        assertEquals(64L * 1024, SizeParser.parse("64kB"));
        assertEquals(64L * 1024, SizeParser.parse("64KB"));
        assertEquals(64L * 1024, SizeParser.parse("64KiB"));
        assertEquals(256L * 1024 * 1024, SizeParser.parse("256MB"));
        assertEquals(256L * 1024 * 1024, SizeParser.parse("256 MiB"));
        assertEquals(1L << 30, SizeParser.parse("1GiB"));
        assertEquals(1L << 30, SizeParser.parse("1GB"));
        assertEquals(1L << 40, SizeParser.parse("1TB"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "MB", "256mb", "256Mb", "1.5MB", "-1MB", "1 G", "10 bytes", "0x10"})
    void notSizes(String text) {
        assertNull(SizeParser.parse(text));
    }

    @Test
    void sizeOverflow() {
        assertThrows(ArithmeticException.class, () -> SizeParser.parse("999999999999999999TB"));
    }
}

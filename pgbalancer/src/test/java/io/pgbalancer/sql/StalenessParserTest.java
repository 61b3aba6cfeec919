// purpose: unit tests of StalenessParser: PostgreSQL time-setting units, rounding, rejection, and the printed form
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StalenessParserTest {
  @Test
  void units() {
    assertEquals(7_000L, StalenessParser.parseNanos("7us"));
    assertEquals(500_000_000L, StalenessParser.parseNanos("500ms"));
    assertEquals(2_000_000_000L, StalenessParser.parseNanos("2s"));
    assertEquals(90_000_000_000L, StalenessParser.parseNanos("1.5min"));
    assertEquals(3_600_000_000_000L, StalenessParser.parseNanos("1h"));
    assertEquals(86_400_000_000_000L, StalenessParser.parseNanos("1d"));
  }

  @Test
  void bareNumberIsMillisecondsAndSpacesAreAllowed() {
    assertEquals(250_000_000L, StalenessParser.parseNanos("250"));
    assertEquals(250_000_000L, StalenessParser.parseNanos(" 250 ms "));
    assertEquals(0L, StalenessParser.parseNanos("0"));
    assertEquals(1_500_000L, StalenessParser.parseNanos("1.5"));
  }

  @Test
  void roundsToTheMicrosecond() {
    assertEquals(2_000L, StalenessParser.parseNanos("1.5us"));
    assertEquals(1_000L, StalenessParser.parseNanos("0.001ms"));
    assertEquals(0L, StalenessParser.parseNanos("0.4us"));
  }

  @Test
  void rejects() {
    for (String bad : new String[] {"", " ", "abc", "ms", "5 sec", "5MS", "-1", "+5", "1.2.3", ".", "5 ms x", "1e3",
        "999999999999d"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StalenessParser.parseNanos(bad),
          bad);
      assertTrue(e.getMessage().contains("\"" + bad + "\""), e.getMessage());
    }
  }

  @Test
  void formatsWithTheLargestExactUnit() {
    assertEquals("500ms", StalenessParser.format(500_000_000L));
    assertEquals("2s", StalenessParser.format(2_000_000_000L));
    assertEquals("90s", StalenessParser.format(90_000_000_000L));
    assertEquals("1min", StalenessParser.format(60_000_000_000L));
    assertEquals("2h", StalenessParser.format(7_200_000_000_000L));
    assertEquals("1d", StalenessParser.format(86_400_000_000_000L));
    assertEquals("1500us", StalenessParser.format(1_500_000L));
    assertEquals("0", StalenessParser.format(0));
    assertEquals("-1", StalenessParser.format(-1));
  }

  @Test
  void formatParsesBack() {
    for (String text : new String[] {"500ms", "2s", "1min", "1500us", "36h", "3d"}) {
      assertEquals(text, StalenessParser.format(StalenessParser.parseNanos(text)));
    }
  }

  /**
   * Found while fuzzing the text parsers: the number went to BigDecimal whatever its length, and parsing n digits costs
   * O(n^2): a megabyte of digits (a query may be up to limits.max_message_size, 256 MB by default) held the event loop
   * for seconds, from a SET pgbalancer.max_staleness or from a hint comment on any query.
   */
  @Test
  void aVeryLongNumberIsRejectedAtOnce() {
    for (String huge : new String[] {"9".repeat(1_000_000), "1." + "0".repeat(1_000_000) + "1", "0".repeat(1_000_000) + "5"}) {
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(1),
          () -> assertThrows(IllegalArgumentException.class, () -> StalenessParser.parseNanos(huge + "ms")));
    }
    assertEquals(1_000L, StalenessParser.parseNanos("0.001" + "0".repeat(59) + "ms"),
        "a number of 64 characters still reads exactly");
  }
}

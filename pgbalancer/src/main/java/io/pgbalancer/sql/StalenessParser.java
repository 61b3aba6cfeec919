// purpose: parses and prints a staleness bound written like a PostgreSQL time setting ("500ms", "2 s", "1.5min", "250")
package io.pgbalancer.sql;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * The one grammar for a staleness bound, shared by {@code SET pgbalancer.max_staleness} and the
 * {@code /* pgbalancer: max_staleness=... * /} hint. As PostgreSQL's time settings: a non-negative decimal number,
 * optional whitespace, then an optional unit {@code us}, {@code ms}, {@code s}, {@code min}, {@code h} or {@code d}
 * (case-sensitive, as PostgreSQL's); a bare number means milliseconds. The value is rounded to the nearest
 * microsecond, the smallest unit. Negative values are not durations: callers that give {@code -1} a meaning handle
 * it themselves.
 */
public final class StalenessParser {
  /** The units, largest first (the order {@link #format} tries them in). */
  private static final String[] UNITS = {"d", "h", "min", "s", "ms", "us"};
  private static final long[] UNIT_NANOS = {86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L,
      1_000_000_000L, 1_000_000L, 1_000L};
  private static final long MICRO = 1_000L;

  /** PostgreSQL's own hint for a time setting with a bad value. */
  public static final String UNITS_HINT = "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".";

  /** Longer numbers are refused: 64 characters hold every duration a long counts in nanoseconds, and then some. */
  private static final int MAX_NUMBER_CHARS = 64;

  private StalenessParser() {
  }

  /**
   * The duration in nanoseconds (a multiple of 1000).
   *
   * @throws IllegalArgumentException naming the text when it is not a duration or does not fit in a long
   */
  public static long parseNanos(String text) {
    String s = text.strip();
    int i = 0;
    while (i < s.length() && (SqlLexer.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
      i++;
    }
    if (i > MAX_NUMBER_CHARS) { // BigDecimal takes O(n^2) for n digits: a huge one would hold the event loop
      throw new IllegalArgumentException("invalid duration \"" + s.substring(0, 20) + "...\": a number of more than "
          + MAX_NUMBER_CHARS + " characters");
    }
    String number = s.substring(0, i);
    String unit = s.substring(i).strip();
    if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
      throw invalid(text);
    }
    long unitNanos = unit.isEmpty() ? UNIT_NANOS[4] : unitNanos(unit, text);
    BigDecimal micros = new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos / MICRO))
        .setScale(0, RoundingMode.HALF_EVEN);
    try {
      return Math.multiplyExact(micros.longValueExact(), MICRO);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("duration \"" + text + "\" is too large", e);
    }
  }

  /** The shortest exact spelling PostgreSQL would show: {@code 500ms}, {@code 2s}, {@code 1min}; 0 prints as {@code 0}. */
  public static String format(long nanos) {
    if (nanos <= 0) {
      return Long.toString(nanos);
    }
    for (int u = 0; u < UNITS.length; u++) {
      if (nanos % UNIT_NANOS[u] == 0) {
        return nanos / UNIT_NANOS[u] + UNITS[u];
      }
    }
    return Math.round(nanos / (double) MICRO) + "us"; // not from parseNanos: sub-microsecond, shown rounded
  }

  private static long unitNanos(String unit, String text) {
    for (int u = 0; u < UNITS.length; u++) {
      if (UNITS[u].equals(unit)) {
        return UNIT_NANOS[u];
      }
    }
    throw invalid(text);
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid duration \"" + text
        + "\": expected a number with an optional unit us, ms, s, min, h or d (milliseconds when none)");
  }
}

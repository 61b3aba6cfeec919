// purpose: finds the hints (/* pgbalancer: primary|replica */, /* pgbalancer: max_staleness=500ms */) in the comments before the first token
package io.pgbalancer.sql;

import io.pgbalancer.sql.Classification.Hint;

/**
 * Reads the leading comments of a SQL text. A hint counts only when it appears before the first token
 * (possibly after other comments); a hint comment later in the text is ignored. Each hint is a comment of its own
 * whose body is {@code pgbalancer} {@code :} then either {@code primary|replica} or {@code max_staleness = <duration>},
 * case-insensitive except for the duration's unit, with any whitespace around the parts, e.g.
 * {@code /*PgBalancer :  REPLICA * /} or {@code /* pgbalancer: max_staleness=500ms * /}. The duration has the grammar of
 * {@link StalenessParser} (a bare number is milliseconds). The first hint of each kind wins; a
 * {@code max_staleness} hint whose value is not a valid duration is ignored, as if the comment were not a hint.
 */
final class HintParser {
  private static final String PREFIX = "pgbalancer";
  private static final String MAX_STALENESS = "max_staleness";

  /**
   * The hints of one text.
   *
   * @param hint              the routing hint
   * @param maxStalenessNanos the staleness bound in nanoseconds, -1 when there is none
   */
  record Hints(Hint hint, long maxStalenessNanos) {
    static final Hints NONE = new Hints(Hint.NONE, -1);
  }

  private HintParser() {
  }

  static Hints parse(String sql) {
    final int n = sql.length();
    Hint hint = Hint.NONE;
    long staleness = -1;
    int i = 0;
    while (i < n && (hint == Hint.NONE || staleness < 0)) {
      char c = sql.charAt(i);
      if (SqlLexer.isSpace(c)) {
        i++;
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        i = SqlLexer.skipLineComment(sql, i + 2);
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int end = SqlLexer.skipBlockComment(sql, i);
        if (end < 0) {
          break;
        }
        int body = afterPrefix(sql, i + 2, end - 2);
        if (body >= 0) {
          if (hint == Hint.NONE) {
            hint = routeHint(sql, body, end - 2);
          }
          if (staleness < 0) {
            staleness = stalenessHint(sql, body, end - 2);
          }
        }
        i = end;
      } else {
        break;
      }
    }
    return hint == Hint.NONE && staleness < 0 ? Hints.NONE : new Hints(hint, staleness);
  }

  /** Where the hint proper starts after {@code pgbalancer :} in the comment body {@code sql[from, to)}, or -1. */
  private static int afterPrefix(String sql, int from, int to) {
    int i = skipSpace(sql, from, to);
    if (!matchWord(sql, i, to, PREFIX)) {
      return -1;
    }
    i = skipSpace(sql, i + PREFIX.length(), to);
    if (i >= to || sql.charAt(i) != ':') {
      return -1;
    }
    return skipSpace(sql, i + 1, to);
  }

  /** {@code primary} or {@code replica} alone in {@code sql[i, to)}. */
  private static Hint routeHint(String sql, int i, int to) {
    Hint hint;
    if (matchWord(sql, i, to, "primary")) {
      hint = Hint.PRIMARY;
    } else if (matchWord(sql, i, to, "replica")) {
      hint = Hint.REPLICA;
    } else {
      return Hint.NONE;
    }
    return skipSpace(sql, i + 7, to) == to ? hint : Hint.NONE;
  }

  /** {@code max_staleness = duration} in {@code sql[i, to)}: nanoseconds, or -1 when absent or invalid. */
  private static long stalenessHint(String sql, int i, int to) {
    if (!matchWord(sql, i, to, MAX_STALENESS)) {
      return -1;
    }
    i = skipSpace(sql, i + MAX_STALENESS.length(), to);
    if (i >= to || sql.charAt(i) != '=') {
      return -1;
    }
    try {
      return StalenessParser.parseNanos(sql.substring(i + 1, to));
    } catch (IllegalArgumentException invalid) {
      return -1; // documented: an invalid value is no hint
    }
  }

  private static boolean matchWord(String sql, int at, int to, String lower) {
    return at + lower.length() <= to && TokenBuffer.equalsIgnoreAsciiCase(sql, at, lower.length(), lower);
  }

  private static int skipSpace(String sql, int i, int to) {
    while (i < to && SqlLexer.isSpace(sql.charAt(i))) {
      i++;
    }
    return i;
  }
}

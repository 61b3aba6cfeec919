// purpose: finds a routing hint (/* pgbalancer: primary|replica */) among the comments that precede the first token
package io.pgbalancer.sql;

import io.pgbalancer.sql.Classification.Hint;

/**
 * Reads the leading comments of a SQL text. A hint counts only when it appears before the first token
 * (possibly after other comments); a hint comment later in the text is ignored. The comment body must be
 * {@code pgbalancer} {@code :} {@code primary|replica}, case-insensitive, with any whitespace around the
 * parts, e.g. {@code /*PgBalancer :  REPLICA * /}. The first hint comment wins.
 */
final class HintParser {
  private static final String PREFIX = "pgbalancer";

  private HintParser() {
  }

  static Hint parse(String sql) {
    final int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (SqlLexer.isSpace(c)) {
        i++;
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        i = SqlLexer.skipLineComment(sql, i + 2);
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int end = SqlLexer.skipBlockComment(sql, i);
        if (end < 0) {
          return Hint.NONE;
        }
        Hint h = parseBody(sql, i + 2, end - 2);
        if (h != Hint.NONE) {
          return h;
        }
        i = end;
      } else {
        return Hint.NONE;
      }
    }
    return Hint.NONE;
  }

  /** Parses the comment body {@code sql[from, to)}. */
  private static Hint parseBody(String sql, int from, int to) {
    int i = skipSpace(sql, from, to);
    if (!matchWord(sql, i, to, PREFIX)) {
      return Hint.NONE;
    }
    i = skipSpace(sql, i + PREFIX.length(), to);
    if (i >= to || sql.charAt(i) != ':') {
      return Hint.NONE;
    }
    i = skipSpace(sql, i + 1, to);
    Hint hint;
    int len;
    if (matchWord(sql, i, to, "primary")) {
      hint = Hint.PRIMARY;
      len = 7;
    } else if (matchWord(sql, i, to, "replica")) {
      hint = Hint.REPLICA;
      len = 7;
    } else {
      return Hint.NONE;
    }
    return skipSpace(sql, i + len, to) == to ? hint : Hint.NONE;
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

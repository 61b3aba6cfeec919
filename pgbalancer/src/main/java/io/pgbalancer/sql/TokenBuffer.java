// purpose: compact index-based token storage for one SQL text (3 ints per token) with allocation-free keyword tests
package io.pgbalancer.sql;

import java.util.Locale;

/**
 * Tokens of one SQL text, stored as (type, start, end) int triples. Every accessor is bounds-safe:
 * asking about an index past the last token answers "no" instead of throwing, which keeps
 * the look-ahead code in the classifier short.
 */
final class TokenBuffer {
  private static final TokenType[] TYPES = TokenType.values();

  final String sql;
  private int[] data;
  private int count;
  private boolean error;

  TokenBuffer(String sql) {
    this.sql = sql;
    // a token is rarely shorter than ~4 characters on average; grow on demand
    this.data = new int[3 * Math.min(Math.max(sql.length() / 4, 8), 4096)];
  }

  void add(TokenType type, int start, int end) {
    if (3 * count + 3 > data.length) {
      int[] bigger = new int[data.length * 2];
      System.arraycopy(data, 0, bigger, 0, 3 * count);
      data = bigger;
    }
    int p = 3 * count++;
    data[p] = type.ordinal();
    data[p + 1] = start;
    data[p + 2] = end;
    if (type == TokenType.ERROR) {
      error = true;
    }
  }

  int size() {
    return count;
  }

  /** True when the lexer hit unterminated input. */
  boolean hasError() {
    return error;
  }

  TokenType type(int i) {
    return i >= 0 && i < count ? TYPES[data[3 * i]] : null;
  }

  int start(int i) {
    return data[3 * i + 1];
  }

  int end(int i) {
    return data[3 * i + 2];
  }

  boolean is(int i, TokenType type) {
    return i >= 0 && i < count && data[3 * i] == type.ordinal();
  }

  /** True when token {@code i} is an unquoted identifier equal to {@code lowerWord} ignoring ASCII case. */
  boolean isWord(int i, String lowerWord) {
    if (!is(i, TokenType.IDENT)) {
      return false;
    }
    int s = data[3 * i + 1];
    return equalsIgnoreAsciiCase(sql, s, data[3 * i + 2] - s, lowerWord);
  }

  /** True when token {@code i} is an unquoted identifier equal to either word. */
  boolean isWord(int i, String w1, String w2) {
    return isWord(i, w1) || isWord(i, w2);
  }

  /** True when token {@code i} is an unquoted identifier or a quoted identifier. */
  boolean isName(int i) {
    return is(i, TokenType.IDENT) || is(i, TokenType.QUOTED_IDENT);
  }

  /** The token text exactly as written. */
  String text(int i) {
    return sql.substring(start(i), end(i));
  }

  /** The text from the start of token {@code first} to the end of token {@code last}, as written. */
  String span(int first, int last) {
    return sql.substring(start(first), end(last));
  }

  /**
   * Identifier value: lower-cased for unquoted identifiers, quotes removed (and {@code ""} unescaped)
   * for quoted ones; GUC names are case-insensitive so callers lower-case the result anyway.
   */
  String name(int i) {
    String text = text(i);
    if (is(i, TokenType.QUOTED_IDENT) && text.length() >= 2 && text.charAt(0) == '"') {
      return text.substring(1, text.length() - 1).replace("\"\"", "\"");
    }
    return text.toLowerCase(Locale.ROOT);
  }

  /** Compares {@code len} chars of {@code s} at {@code off} to the lower-case ASCII word {@code lower}. */
  static boolean equalsIgnoreAsciiCase(String s, int off, int len, String lower) {
    if (len != lower.length()) {
      return false;
    }
    for (int k = 0; k < len; k++) {
      char c = s.charAt(off + k);
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lower.charAt(k)) {
        return false;
      }
    }
    return true;
  }
}

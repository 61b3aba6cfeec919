// purpose: single-pass PostgreSQL lexer that walks the text by index and records token spans (no substrings)
package io.pgbalancer.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * A PostgreSQL lexer that is just precise enough for statement classification: it knows every
 * construct that can hide a keyword (comments, nested block comments, quoted identifiers, standard,
 * E'', U&'', B'', X'', N'' strings and dollar quotes) so that none of them can fool the classifier.
 * Whitespace and comments are skipped. Unterminated constructs produce one {@link TokenType#ERROR}
 * token spanning the rest of the input. Assumes {@code standard_conforming_strings = on} (the default
 * since PostgreSQL 9.1).
 */
public final class SqlLexer {
  private SqlLexer() {
  }

  /** Tokenizes {@code sql} into {@link Token} objects (convenient for tests and diagnostics). */
  public static List<Token> tokenize(String sql) {
    TokenBuffer b = lex(sql);
    List<Token> out = new ArrayList<>(b.size());
    for (int i = 0; i < b.size(); i++) {
      out.add(new Token(b.type(i), b.start(i), b.end(i), b.text(i)));
    }
    return out;
  }

  /** Tokenizes {@code sql} into a compact {@link TokenBuffer}; the hot path. */
  static TokenBuffer lex(String sql) {
    TokenBuffer out = new TokenBuffer(sql);
    final int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (isSpace(c)) {
        i++;
        continue;
      }
      char next = i + 1 < n ? sql.charAt(i + 1) : 0;
      if (c == '-' && next == '-') {
        i = skipLineComment(sql, i + 2);
        continue;
      }
      if (c == '/' && next == '*') {
        int e = skipBlockComment(sql, i);
        if (e < 0) {
          out.add(TokenType.ERROR, i, n);
          return out;
        }
        i = e;
        continue;
      }
      int start = i;
      int e;
      TokenType type;
      switch (c) {
        case '\'':
          e = scanQuoted(sql, i + 1, '\'', false);
          type = TokenType.STRING;
          break;
        case '"':
          e = scanQuoted(sql, i + 1, '"', false);
          type = TokenType.QUOTED_IDENT;
          break;
        case '$':
          if (isDigit(next)) {
            e = i + 1;
            while (e < n && isDigit(sql.charAt(e))) {
              e++;
            }
            type = TokenType.PARAM;
          } else {
            e = scanDollarQuote(sql, i);
            type = TokenType.STRING;
          }
          break;
        case '(': e = i + 1; type = TokenType.LPAREN; break;
        case ')': e = i + 1; type = TokenType.RPAREN; break;
        case '[': e = i + 1; type = TokenType.LBRACKET; break;
        case ']': e = i + 1; type = TokenType.RBRACKET; break;
        case ',': e = i + 1; type = TokenType.COMMA; break;
        case ';': e = i + 1; type = TokenType.SEMICOLON; break;
        case ':':
          if (next == ':') {
            e = i + 2;
            type = TokenType.CAST;
          } else {
            e = i + 1;
            type = TokenType.COLON;
          }
          break;
        case '.':
          if (isDigit(next)) {
            e = scanNumber(sql, i);
            type = TokenType.NUMBER;
          } else {
            e = i + 1;
            type = TokenType.DOT;
          }
          break;
        default:
          if (isDigit(c)) {
            e = scanNumber(sql, i);
            type = TokenType.NUMBER;
          } else if (isIdentStart(c)) {
            if (next == '\'' && (c == 'e' || c == 'E')) {
              e = scanQuoted(sql, i + 2, '\'', true);
              type = TokenType.STRING;
            } else if (next == '\'' && "bBxXnN".indexOf(c) >= 0) {
              e = scanQuoted(sql, i + 2, '\'', false);
              type = TokenType.STRING;
            } else if ((c == 'u' || c == 'U') && next == '&' && i + 2 < n
                && (sql.charAt(i + 2) == '\'' || sql.charAt(i + 2) == '"')) {
              char q = sql.charAt(i + 2);
              e = scanQuoted(sql, i + 3, q, false);
              type = q == '\'' ? TokenType.STRING : TokenType.QUOTED_IDENT;
            } else {
              e = i + 1;
              while (e < n && isIdentPart(sql.charAt(e))) {
                e++;
              }
              type = TokenType.IDENT;
            }
          } else if (isOperatorChar(c)) {
            e = i + 1;
            while (e < n && isOperatorChar(sql.charAt(e)) && !startsComment(sql, e)) {
              e++;
            }
            e = trimOperator(sql, i, e);
            type = TokenType.OPERATOR;
          } else {
            e = i + 1; // stray character such as '\' or '{': harmless, the grammar would reject it
            type = TokenType.OPERATOR;
          }
      }
      if (e < 0) {
        out.add(TokenType.ERROR, start, n);
        return out;
      }
      out.add(type, start, e);
      i = e;
    }
    return out;
  }

  /**
   * Scans a quoted construct whose opening quote precedes {@code from}; a doubled quote is an escaped
   * quote and, when {@code backslash} is set (E'' strings), a backslash escapes the next character.
   * Returns the index after the closing quote, or -1 when unterminated.
   */
  static int scanQuoted(String s, int from, char quote, boolean backslash) {
    final int n = s.length();
    int i = from;
    while (i < n) {
      char c = s.charAt(i);
      if (backslash && c == '\\') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < n && s.charAt(i + 1) == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return -1;
  }

  /**
   * Scans {@code $tag$ ... $tag$} starting at the first {@code $}. Returns the index after the closing
   * delimiter, or -1 when the quote is unterminated or {@code $} does not start a valid tag.
   */
  static int scanDollarQuote(String s, int at) {
    final int n = s.length();
    int t = at + 1;
    if (t < n && isIdentStart(s.charAt(t))) {
      t++;
      while (t < n && isIdentPart(s.charAt(t)) && s.charAt(t) != '$') {
        t++;
      }
    }
    if (t >= n || s.charAt(t) != '$') {
      return -1; // a lone '$' is not valid SQL
    }
    int tagLen = t + 1 - at; // including both '$'
    int i = t + 1;
    while (true) {
      int close = s.indexOf('$', i);
      if (close < 0 || close + tagLen > n) {
        return -1;
      }
      if (s.regionMatches(close, s, at, tagLen)) {
        return close + tagLen;
      }
      i = close + 1;
    }
  }

  /** Scans a numeric literal (decimal, exponent, 0x/0o/0b, underscores); returns the end index. */
  static int scanNumber(String s, int from) {
    final int n = s.length();
    boolean radix = s.charAt(from) == '0' && from + 1 < n && "xXoObB".indexOf(s.charAt(from + 1)) >= 0;
    int i = from;
    while (i < n) {
      char c = s.charAt(i);
      if (isDigit(c) || c == '_' || (c < 128 && Character.isLetter(c))) {
        i++;
      } else if (c == '.' && !(i + 1 < n && s.charAt(i + 1) == '.')) {
        i++;
      } else if ((c == '+' || c == '-') && !radix && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')
          && i + 1 < n && isDigit(s.charAt(i + 1))) {
        i++;
      } else {
        break;
      }
    }
    return i;
  }

  /** Skips a {@code --} comment whose body starts at {@code from}; returns the index after the newline. */
  static int skipLineComment(String s, int from) {
    final int n = s.length();
    int i = from;
    while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r') {
      i++;
    }
    return i;
  }

  /** Skips a (nested) block comment starting at {@code at}; returns the index after it, or -1 if unterminated. */
  static int skipBlockComment(String s, int at) {
    final int n = s.length();
    int depth = 1;
    int i = at + 2;
    while (i < n) {
      char c = s.charAt(i);
      if (c == '*' && i + 1 < n && s.charAt(i + 1) == '/') {
        i += 2;
        if (--depth == 0) {
          return i;
        }
      } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
        depth++;
        i += 2;
      } else {
        i++;
      }
    }
    return -1;
  }

  /**
   * PostgreSQL's rule: a multi-character operator may not end in {@code +} or {@code -} unless it contains
   * one of {@code ~ ! @ # % ^ & | ` ?}, so {@code x=-1} is {@code x}, {@code =}, {@code -}, {@code 1}.
   */
  private static int trimOperator(String s, int start, int end) {
    for (int k = start; k < end; k++) {
      if ("~!@#%^&|`?".indexOf(s.charAt(k)) >= 0) {
        return end;
      }
    }
    while (end - start > 1 && (s.charAt(end - 1) == '+' || s.charAt(end - 1) == '-')) {
      end--;
    }
    return end;
  }

  private static boolean startsComment(String s, int i) {
    if (i + 1 >= s.length()) {
      return false;
    }
    char c = s.charAt(i);
    char d = s.charAt(i + 1);
    return (c == '-' && d == '-') || (c == '/' && d == '*');
  }

  static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
  }

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static boolean isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
  }

  static boolean isIdentPart(char c) {
    return isIdentStart(c) || isDigit(c) || c == '$';
  }

  private static boolean isOperatorChar(char c) {
    switch (c) {
      case '+': case '-': case '*': case '/': case '<': case '>': case '=': case '~':
      case '!': case '@': case '#': case '%': case '^': case '&': case '|': case '`': case '?':
        return true;
      default:
        return false;
    }
  }
}

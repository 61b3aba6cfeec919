// purpose: kinds of lexical tokens produced by SqlLexer (comments and whitespace are never tokens)
package io.pgbalancer.sql;

/** Token kinds. Keywords are plain {@link #IDENT}s: the classifier compares them case-insensitively. */
public enum TokenType {
  /** Unquoted identifier or keyword, e.g. {@code select}, {@code pg_catalog}. */
  IDENT,
  /** Double-quoted identifier, {@code "My Table"} or {@code U&"d\0061t"}; the span includes the quotes. */
  QUOTED_IDENT,
  /** Any string constant: {@code 'x'}, {@code E'..'}, {@code U&'..'}, {@code B'..'}, {@code X'..'}, {@code N'..'}, {@code $tag$..$tag$}. */
  STRING,
  /** Numeric constant, e.g. {@code 42}, {@code 1.5e3}, {@code 0x1F}. */
  NUMBER,
  /** Positional parameter {@code $1}. */
  PARAM,
  LPAREN,
  RPAREN,
  LBRACKET,
  RBRACKET,
  COMMA,
  SEMICOLON,
  DOT,
  /** The {@code ::} cast operator. */
  CAST,
  COLON,
  /** Operator such as {@code =}, {@code <>}, {@code ||}, {@code ->>}; also any other stray character. */
  OPERATOR,
  /** Unterminated string, quoted identifier, dollar quote or block comment: the rest of the input. */
  ERROR
}

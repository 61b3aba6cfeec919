// purpose: unit tests of SqlLexer's token stream (comments, quoting forms, dollar quotes, params, operators, errors)
package io.pgbalancer.sql;

import static io.pgbalancer.sql.TokenType.CAST;
import static io.pgbalancer.sql.TokenType.COLON;
import static io.pgbalancer.sql.TokenType.COMMA;
import static io.pgbalancer.sql.TokenType.DOT;
import static io.pgbalancer.sql.TokenType.ERROR;
import static io.pgbalancer.sql.TokenType.IDENT;
import static io.pgbalancer.sql.TokenType.LBRACKET;
import static io.pgbalancer.sql.TokenType.LPAREN;
import static io.pgbalancer.sql.TokenType.NUMBER;
import static io.pgbalancer.sql.TokenType.OPERATOR;
import static io.pgbalancer.sql.TokenType.PARAM;
import static io.pgbalancer.sql.TokenType.QUOTED_IDENT;
import static io.pgbalancer.sql.TokenType.RBRACKET;
import static io.pgbalancer.sql.TokenType.RPAREN;
import static io.pgbalancer.sql.TokenType.SEMICOLON;
import static io.pgbalancer.sql.TokenType.STRING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SqlLexerTest {

  private static List<TokenType> types(String sql) {
    return SqlLexer.tokenize(sql).stream().map(Token::type).collect(Collectors.toList());
  }

  private static List<String> texts(String sql) {
    return SqlLexer.tokenize(sql).stream().map(Token::text).collect(Collectors.toList());
  }

  @Test
  void simpleSelect() {
    assertEquals(List.of(IDENT, NUMBER, IDENT, IDENT, SEMICOLON), types("SELECT 1 FROM t;"));
    assertEquals(List.of("SELECT", "1", "FROM", "t", ";"), texts("SELECT 1 FROM t;"));
  }

  @Test
  void spansPointIntoTheText() {
    String sql = "  select  x";
    List<Token> tokens = SqlLexer.tokenize(sql);
    assertEquals(new Token(IDENT, 2, 8, "select"), tokens.get(0));
    assertEquals(new Token(IDENT, 10, 11, "x"), tokens.get(1));
  }

  @Test
  void commentsAreSkipped() {
    assertEquals(List.of("a", "b", "c"), texts("a -- line INSERT\nb /* block /* nested */ still */ c"));
    assertEquals(List.of("a", "b"), texts("a --\r\nb"));
    assertEquals(List.of("a"), texts("a -- no newline at end"));
  }

  @Test
  void unterminatedBlockCommentIsError() {
    assertEquals(List.of(IDENT, ERROR), types("a /* open /* nested */"));
  }

  @Test
  void stringsWithDoubledQuotes() {
    assertEquals(List.of("'it''s'", ",", "'a''b''c'"), texts("'it''s', 'a''b''c'"));
    assertEquals(List.of(STRING), types("'--not a comment /* nor this */'"));
  }

  @Test
  void escapeStrings() {
    assertEquals(List.of("E'it\\'s'", "x"), texts("E'it\\'s' x"));
    assertEquals(List.of("e'\\\\'", "x"), texts("e'\\\\' x"));
    assertEquals(List.of(STRING, IDENT), types("E'a''b\\n' y"));
    assertEquals(List.of(ERROR), types("E'unterminated\\'"));
  }

  @Test
  void standardStringsDoNotUseBackslashEscapes() {
    assertEquals(List.of("'a\\'", "b"), texts("'a\\' b"));
  }

  @Test
  void prefixedStrings() {
    assertEquals(List.of(STRING, STRING, STRING, STRING, STRING),
        types("B'101' X'1F' N'nat' U&'d\\0061t' u&'x'"));
    assertEquals(List.of(QUOTED_IDENT), types("U&\"d\\0061t\""));
    assertEquals(List.of(IDENT, STRING), types("b '1'"), "a space breaks the prefix");
    assertEquals(List.of(IDENT, OPERATOR, IDENT), types("u & v"));
  }

  @Test
  void identifiersMayContainDollarsAndDigits() {
    assertEquals(List.of("x$y", ",", "a1$2", ",", "_z"), texts("x$y, a1$2, _z"));
    assertEquals(List.of(IDENT), types("tëst"));
  }

  @Test
  void quotedIdentifiers() {
    assertEquals(List.of("\"select\"", ".", "\"a\"\"b\""), texts("\"select\".\"a\"\"b\""));
    assertEquals(List.of(ERROR), types("\"open"));
  }

  @Test
  void dollarQuotes() {
    assertEquals(List.of("$$ a ' b $$"), texts("$$ a ' b $$"));
    assertEquals(List.of("$fn$ x $$ y $fn$", ";"), texts("$fn$ x $$ y $fn$;"));
    assertEquals(List.of("$a$$a$"), texts("$a$$a$"));
    assertEquals(List.of(ERROR), types("$x$ never closed $y$"));
    assertEquals(List.of(ERROR), types("$$ open"));
  }

  @Test
  void parametersAreNotDollarQuotes() {
    assertEquals(List.of(IDENT, PARAM, COMMA, PARAM), types("SELECT $1, $23"));
    assertEquals(List.of("$1", "+", "$2"), texts("$1+$2"));
  }

  @Test
  void loneDollarIsError() {
    assertEquals(List.of(IDENT, ERROR), types("SELECT $ FROM t"));
  }

  @Test
  void numbers() {
    assertEquals(List.of("1", "1.5", ".5", "1e10", "1.5e-3", "0x1F", "1_000"),
        texts("1 1.5 .5 1e10 1.5e-3 0x1F 1_000"));
    assertEquals(List.of(NUMBER, OPERATOR, NUMBER), types("1+2"));
  }

  @Test
  void castsAndSlices() {
    assertEquals(List.of(IDENT, CAST, IDENT, LBRACKET, NUMBER, COLON, NUMBER, RBRACKET), types("x::int[1:2]"));
  }

  @Test
  void operators() {
    assertEquals(List.of("a", "->>", "'k'"), texts("a->>'k'"));
    assertEquals(List.of("a", "<>", "b", "||", "c"), texts("a<>b||c"));
    assertEquals(List.of("x", "=", "-", "1"), texts("x=-1"), "trailing - is split off like PostgreSQL does");
    assertEquals(List.of("x", "@-", "1"), texts("x@-1"));
    assertEquals(List.of("a", "-"), texts("a- -- comment"));
    assertEquals(List.of("a", "*", "b"), texts("a*/* c */b"));
  }

  @Test
  void punctuation() {
    assertEquals(List.of(LPAREN, IDENT, DOT, IDENT, RPAREN, SEMICOLON), types("(s.t);"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"'open", "\"open", "$$open", "$t$open$$", "/* open", "E'open\\'"})
  void unterminatedInputEndsInError(String sql) {
    TokenBuffer b = SqlLexer.lex("SELECT " + sql);
    assertTrue(b.hasError());
    assertEquals(ERROR, b.type(b.size() - 1));
    assertEquals(("SELECT " + sql).length(), b.end(b.size() - 1));
  }

  @Test
  void keywordComparisonIgnoresAsciiCaseOnly() {
    TokenBuffer b = SqlLexer.lex("SeLeCt \"select\" selectx");
    assertTrue(b.isWord(0, "select"));
    assertFalse(b.isWord(1, "select"), "quoted identifiers are not keywords");
    assertFalse(b.isWord(2, "select"));
    assertFalse(b.isWord(3, "select"), "past the end is safe");
    assertFalse(b.is(-1, IDENT));
  }

  @Test
  void bufferGrowsForLongInput() {
    String sql = "SELECT " + "a, ".repeat(5000) + "b";
    TokenBuffer b = SqlLexer.lex(sql);
    assertEquals(2 + 2 * 5000, b.size());
    assertEquals("b", b.text(b.size() - 1));
  }

  @Test
  void emptyAndWhitespaceOnly() {
    assertTrue(SqlLexer.tokenize("").isEmpty());
    assertTrue(SqlLexer.tokenize(" \t\r\n\f ").isEmpty());
  }
}

// purpose: an immutable token (type + span + text), used by SqlLexer.tokenize for tests and diagnostics
package io.pgbalancer.sql;

/**
 * One token of a SQL text. The hot path never creates these (it uses {@link TokenBuffer});
 * they are built only by {@link SqlLexer#tokenize(String)}.
 *
 * @param type  token kind
 * @param start start offset in the SQL text (inclusive)
 * @param end   end offset in the SQL text (exclusive)
 * @param text  the token text exactly as written (including quotes for strings/quoted identifiers)
 */
public record Token(TokenType type, int start, int end, String text) {
  @Override
  public String toString() {
    return type + "(" + text + ")";
  }
}

// purpose: public entry point: splits a SQL text into statements, classifies them and caches the result per text
package io.pgbalancer.sql;

import io.pgbalancer.sql.Classification.Hint;
import io.pgbalancer.sql.Classification.Route;
import io.pgbalancer.sql.Classification.TxnControl;
import java.util.List;
import java.util.Set;

/**
 * Classifies the text of a simple Query or an extended-protocol Parse: may it run on a replica, does it
 * control the transaction, change session settings or require the session to stay on one backend.
 * Thread-safe. Results are cached per exact statement text (bounded, see {@link ClassificationCache}).
 *
 * <p>This is a lexer plus keyword rules, not a parser: anything it does not recognise as a read is a
 * write, so mistakes send reads to the primary rather than writes to a replica.
 */
public final class StatementClassifier {
  private static final Classification EMPTY =
      new Classification(Route.READ, Hint.NONE, TxnControl.NONE, List.of(), false, null, 0);

  /** What {@link #classify} answers for every text {@link PlainSelect#matches} accepts: one statement, a read. */
  public static final Classification PLAIN_READ =
      Classification.of(Route.READ, Hint.NONE, TxnControl.NONE, List.of(), false, null, 1, Classification.NO_STALENESS_HINT);

  private final WriteFunctions functions;
  private final ClassificationCache cache;

  /**
   * @param extraWriteFunctions extra write-function names from {@code routing.write_functions} (case-insensitive;
   *                            a schema prefix is ignored); may be null or empty
   * @param cacheSize           maximum number of cached statement texts; 0 disables caching
   */
  public StatementClassifier(Set<String> extraWriteFunctions, int cacheSize) {
    this.functions = new WriteFunctions(extraWriteFunctions);
    this.cache = new ClassificationCache(cacheSize);
  }

  /** Classifies {@code sql}; repeated calls with an equal cached text return the same instance. */
  public Classification classify(String sql) {
    if (sql == null || sql.isEmpty()) {
      return EMPTY;
    }
    Classification cached = cache.get(sql);
    if (cached != null) {
      return cached;
    }
    return cache.put(sql, compute(sql));
  }

  /** Number of cached texts (for metrics and tests). */
  public int cachedCount() {
    return cache.size();
  }

  /** Drops every cached classification. */
  public void clearCache() {
    cache.clear();
  }

  /** Classifies without touching the cache. */
  Classification compute(String sql) {
    TokenBuffer tokens = SqlLexer.lex(sql);
    Effects fx = new Effects();
    split(tokens, new StatementAnalyzer(tokens, functions, fx), fx);
    HintParser.Hints hints = HintParser.parse(sql);
    Hint hint = hints.hint();
    Route route = fx.write ? Route.WRITE : Route.READ;
    if (hint == Hint.PRIMARY) {
      route = Route.WRITE;
    } else if (hint == Hint.REPLICA) {
      route = Route.READ;
    }
    if (fx.statements == 0 && hint == Hint.NONE && !fx.write && hints.maxStalenessNanos() < 0) {
      return EMPTY;
    }
    return Classification.of(route, hint, fx.txn, fx.sets(), fx.pins, fx.pinReason, fx.statements,
        hints.maxStalenessNanos());
  }

  /**
   * Splits at semicolons outside parentheses and outside {@code BEGIN ATOMIC ... END} bodies of
   * {@code CREATE FUNCTION/PROCEDURE} (as psql does), and analyzes each non-empty statement.
   */
  private static void split(TokenBuffer t, StatementAnalyzer analyzer, Effects fx) {
    int n = t.size();
    int from = 0;
    int depth = 0;
    int atomic = 0;
    for (int i = 0; i < n; i++) {
      TokenType type = t.type(i);
      if (type == TokenType.LPAREN) {
        depth++;
      } else if (type == TokenType.RPAREN) {
        depth--;
      } else if (type == TokenType.IDENT) {
        if (atomic > 0) {
          if (t.isWord(i, "case") || (t.isWord(i, "begin") && t.isWord(i + 1, "atomic"))) {
            atomic++;
          } else if (t.isWord(i, "end")) {
            atomic--;
          }
        } else if (t.isWord(i, "begin") && t.isWord(i + 1, "atomic") && t.isWord(from, "create")) {
          atomic = 1;
        }
      } else if (type == TokenType.SEMICOLON && atomic == 0) {
        if (depth < 0) {
          fx.write = true; // stray ')': unparsable
          depth = 0;
        }
        if (depth == 0) {
          if (i > from) {
            analyzer.analyze(from, i);
          }
          from = i + 1;
        }
      }
    }
    if (n > from) {
      analyzer.analyze(from, n);
    }
    if (depth != 0 || atomic != 0) {
      fx.write = true;
    }
  }
}

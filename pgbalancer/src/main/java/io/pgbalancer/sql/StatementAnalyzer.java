// purpose: classifies one ;-separated statement (a token range) for route, transaction control and pinning
package io.pgbalancer.sql;

import io.pgbalancer.sql.Classification.TxnControl;

/**
 * Looks at the tokens of one statement: one linear scan collects the write signals (write-function calls,
 * locking clauses, data-modifying CTEs, {@code INTO}), then the leading keyword decides. Everything not
 * recognised as a read is a write. Results accumulate in {@link Effects}.
 */
final class StatementAnalyzer {
  private static final String[] FALSE_WORDS = {"f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0"};

  private final TokenBuffer t;
  private final WriteFunctions functions;
  private final Effects fx;

  // per-statement scan results
  private boolean error;
  private boolean unbalanced;
  private boolean writeCall;
  private boolean locking;
  private boolean dml;
  private boolean sessionLockCall;
  private boolean sessionSetConfig;
  private int intoAt;

  StatementAnalyzer(TokenBuffer tokens, WriteFunctions functions, Effects fx) {
    this.t = tokens;
    this.functions = functions;
    this.fx = fx;
  }

  /** Analyzes the non-empty statement {@code [from, to)}. */
  void analyze(int from, int to) {
    fx.statements++;
    if (analyzeStatement(from, to)) {
      fx.write = true;
    }
  }

  /** Returns true when the statement must run on the primary. */
  private boolean analyzeStatement(int from, int to) {
    scan(from, to);
    if (error || unbalanced) {
      return true;
    }
    int first = from;
    while (t.is(first, TokenType.LPAREN)) {
      first++;
    }
    if (t.isWord(first, "select") || t.isWord(first, "with") || t.isWord(first, "values") || t.isWord(first, "table")) {
      if (intoAt >= 0) {
        selectIntoTemp(intoAt + 1);
      }
      applyCallPins();
      return writeCall || locking || dml || intoAt >= 0;
    }
    if (first != from || !t.is(first, TokenType.IDENT)) {
      return true; // parenthesised non-query, or garbage
    }
    if (t.isWord(first, "show")) {
      return false;
    }
    if (t.isWord(first, "explain")) {
      return explainAnalyzes(first + 1, to);
    }
    if (t.isWord(first, "create")) {
      createTemp(first + 1, to);
      return true;
    }
    if (t.isWord(first, "prepare")) {
      if (!(t.isWord(first + 1, "transaction") && t.is(first + 2, TokenType.STRING))) {
        fx.pin(Effects.PIN_PREPARE);
      }
      return true;
    }
    applyCallPins();
    if (t.isWord(first, "begin")) {
      fx.txn(beginControl(first + 1, to));
    } else if (t.isWord(first, "start")) {
      if (t.isWord(first + 1, "transaction")) {
        fx.txn(beginControl(first + 2, to));
      }
    } else if (t.isWord(first, "commit", "end")) {
      if (!t.isWord(first + 1, "prepared")) {
        fx.txn(TxnControl.COMMIT);
      }
    } else if (t.isWord(first, "rollback")) {
      int next = t.isWord(first + 1, "work", "transaction") ? first + 2 : first + 1;
      if (t.isWord(next, "to")) {
        savepoint(SessionSet.Kind.ROLLBACK_TO, t.isWord(next + 1, "savepoint") ? next + 2 : next + 1, to);
      } else if (!t.isWord(first + 1, "prepared")) {
        fx.txn(TxnControl.ROLLBACK);
      }
    } else if (t.isWord(first, "savepoint")) {
      savepoint(SessionSet.Kind.SAVEPOINT, first + 1, to);
    } else if (t.isWord(first, "release")) {
      savepoint(SessionSet.Kind.RELEASE, t.isWord(first + 1, "savepoint") ? first + 2 : first + 1, to);
    } else if (t.isWord(first, "abort")) {
      fx.txn(TxnControl.ROLLBACK);
    } else if (t.isWord(first, "set")) {
      SessionSetParser.parseSet(t, first, to, fx);
    } else if (t.isWord(first, "reset")) {
      SessionSetParser.parseReset(t, first, to, fx);
    } else if (t.isWord(first, "discard")) {
      SessionSetParser.parseDiscard(t, first, to, fx);
    } else if (t.isWord(first, "listen")) {
      fx.pin(Effects.PIN_LISTEN);
    } else if (t.isWord(first, "load")) {
      fx.pin(Effects.PIN_LOAD);
    } else if (t.isWord(first, "declare")) {
      withHold(first + 1, to);
    }
    return true;
  }

  /** One pass over the statement collecting write signals. */
  private void scan(int from, int to) {
    error = false;
    unbalanced = false;
    writeCall = false;
    locking = false;
    dml = false;
    sessionLockCall = false;
    sessionSetConfig = false;
    intoAt = -1;
    int depth = 0;
    for (int i = from; i < to; i++) {
      switch (t.type(i)) {
        case ERROR -> error = true;
        case LPAREN -> depth++;
        case RPAREN -> {
          if (--depth < 0) {
            unbalanced = true;
          }
        }
        case QUOTED_IDENT -> {
          if (isCall(i)) {
            int open = t.sql.charAt(t.start(i)) == '"' ? 1 : 3; // "name" or U&"name"
            call(i, t.start(i) + open, t.end(i) - 1);
          }
        }
        case IDENT -> {
          if (isCall(i)) {
            call(i, t.start(i), t.end(i));
          }
          if (t.isWord(i, "for") && (t.isWord(i + 1, "update") || t.isWord(i + 1, "share")
              || (t.isWord(i + 1, "no") && t.isWord(i + 2, "key")) || (t.isWord(i + 1, "key") && t.isWord(i + 2, "share")))) {
            locking = true;
          } else if (isDmlWord(i) && (depth == 0 || t.is(i - 1, TokenType.LPAREN))) {
            dml = true; // main statement of a WITH, or a data-modifying CTE body "AS (INSERT ..."
          } else if (intoAt < 0 && t.isWord(i, "into")) {
            intoAt = i;
          }
        }
        default -> {
        }
      }
    }
    if (depth != 0) {
      unbalanced = true;
    }
  }

  /** A name followed by {@code (}, except a table name in {@code INTO t (cols)} or {@code TABLE t (...)}. */
  private boolean isCall(int i) {
    if (!t.is(i + 1, TokenType.LPAREN)) {
      return false;
    }
    int before = i - 1;
    while (t.is(before, TokenType.DOT) && t.isName(before - 1)) {
      before -= 2; // skip schema qualification
    }
    return !t.isWord(before, "into", "table");
  }

  private boolean isDmlWord(int i) {
    return t.isWord(i, "insert") || t.isWord(i, "update") || t.isWord(i, "delete") || t.isWord(i, "merge");
  }

  /** A call of the function named {@code sql[start, end)} at token {@code i}. */
  private void call(int i, int start, int end) {
    int kind = functions.lookup(t.sql, start, end);
    if (kind == WriteFunctions.NONE) {
      return;
    }
    writeCall = true;
    if (kind == WriteFunctions.SESSION_LOCK) {
      sessionLockCall = true;
    } else if (end - start == 10 && TokenBuffer.equalsIgnoreAsciiCase(t.sql, start, 10, "set_config")) {
      // set_config(name, value, is_local): only a literal true is_local is transaction scoped
      boolean local = t.is(i + 2, TokenType.STRING) && t.is(i + 3, TokenType.COMMA)
          && t.is(i + 5, TokenType.COMMA) && t.isWord(i + 6, "true") && t.is(i + 7, TokenType.RPAREN);
      if (!local) {
        sessionSetConfig = true;
      }
    }
  }

  /** A savepoint step naming the savepoint at token {@code at}, the statement's last token. */
  private void savepoint(SessionSet.Kind kind, int at, int to) {
    if (at + 1 == to && t.isName(at)) {
      fx.addSet(SessionSet.savepoint(kind, t.name(at)));
    }
  }

  /** Pins caused by function calls, applied only for statements that execute them. */
  private void applyCallPins() {
    if (sessionLockCall) {
      fx.pin(Effects.PIN_ADVISORY_LOCK);
    }
    if (sessionSetConfig) {
      fx.pin(Effects.PIN_SET_CONFIG);
    }
  }

  /** EXPLAIN executes the statement only with ANALYZE; returns true if it does. */
  private boolean explainAnalyzes(int i, int to) {
    if (t.isWord(i, "analyze", "analyse")) {
      return true;
    }
    if (!t.is(i, TokenType.LPAREN)) {
      return false;
    }
    i++;
    while (i < to && !t.is(i, TokenType.RPAREN)) {
      if (t.isWord(i, "analyze", "analyse")) {
        int v = i + 1;
        if (t.is(v, TokenType.COMMA) || t.is(v, TokenType.RPAREN)) {
          return true;
        }
        if (!isFalse(v) || !(t.is(v + 1, TokenType.COMMA) || t.is(v + 1, TokenType.RPAREN))) {
          return true;
        }
      }
      while (i < to && !t.is(i, TokenType.COMMA) && !t.is(i, TokenType.RPAREN)) {
        i++;
      }
      if (t.is(i, TokenType.COMMA)) {
        i++;
      }
    }
    return false;
  }

  /** True for a boolean option value PostgreSQL reads as false: f[alse], n[o], of[f], 0, also quoted. */
  private boolean isFalse(int i) {
    int s = t.start(i);
    int e = t.end(i);
    if (t.is(i, TokenType.STRING) && t.sql.charAt(s) == '\'') {
      s++;
      e--;
    } else if (!t.is(i, TokenType.IDENT) && !t.is(i, TokenType.NUMBER)) {
      return false;
    }
    for (String w : FALSE_WORDS) {
      if (TokenBuffer.equalsIgnoreAsciiCase(t.sql, s, e - s, w)) {
        return true;
      }
    }
    return false;
  }

  /** Transaction modes after BEGIN [WORK|TRANSACTION] or START TRANSACTION. */
  private TxnControl beginControl(int i, int to) {
    boolean readOnly = false;
    for (; i < to; i++) {
      if (t.isWord(i, "read")) {
        if (t.isWord(i + 1, "only")) {
          readOnly = true;
        } else if (t.isWord(i + 1, "write")) {
          readOnly = false;
        }
      }
    }
    return readOnly ? TxnControl.BEGIN_READ_ONLY : TxnControl.BEGIN;
  }

  /** {@code SELECT ... INTO [GLOBAL|LOCAL] TEMP|TEMPORARY ...} or {@code INTO pg_temp.x}; {@code i} follows INTO. */
  private void selectIntoTemp(int i) {
    if (t.isWord(i, "global", "local")) {
      i++;
    }
    if (t.isWord(i, "temp", "temporary")) {
      fx.pin(Effects.PIN_TEMP_TABLE);
      return;
    }
    if (t.isWord(i, "unlogged")) {
      i++;
    }
    if (t.isWord(i, "table")) {
      i++;
    }
    if (isTempSchema(i)) {
      fx.pin(Effects.PIN_TEMP_TABLE);
    }
  }

  /** {@code CREATE [OR REPLACE] [GLOBAL|LOCAL] TEMP|TEMPORARY ...} or {@code CREATE <kind> pg_temp.name}. */
  private void createTemp(int i, int to) {
    if (t.isWord(i, "or") && t.isWord(i + 1, "replace")) {
      i += 2;
    }
    if (t.isWord(i, "global", "local")) {
      i++;
    }
    boolean temp = t.isWord(i, "temp", "temporary");
    if (temp || t.isWord(i, "unlogged")) {
      i++;
    }
    if (t.isWord(i, "recursive")) {
      i++;
    }
    int kindAt = i;
    String kind = t.isWord(i, "view") ? "temporary view" : t.isWord(i, "sequence") ? "temporary sequence"
        : t.isWord(i, "table") ? Effects.PIN_TEMP_TABLE : null;
    if (temp) {
      fx.pin(kind != null ? kind : Effects.PIN_TEMP_TABLE);
      return;
    }
    if (kind == null && !t.isWord(i, "function") && !t.isWord(i, "procedure") && !t.isWord(i, "type")) {
      return;
    }
    i++;
    if (t.isWord(i, "if") && t.isWord(i + 1, "not") && t.isWord(i + 2, "exists")) {
      i += 3;
    }
    if (i < to && isTempSchema(i)) {
      fx.pin(kind != null ? kind : "temporary " + t.name(kindAt));
    }
  }

  /** True when token {@code i} is {@code pg_temp} or {@code pg_temp_N} followed by a dot. */
  private boolean isTempSchema(int i) {
    if (!t.is(i + 1, TokenType.DOT) || !t.isName(i)) {
      return false;
    }
    int s = t.is(i, TokenType.QUOTED_IDENT) ? t.start(i) + 1 : t.start(i);
    int len = t.end(i) - s - (t.is(i, TokenType.QUOTED_IDENT) ? 1 : 0);
    return len >= 7 && TokenBuffer.equalsIgnoreAsciiCase(t.sql, s, 7, "pg_temp")
        && (len == 7 || t.sql.charAt(s + 7) == '_');
  }

  /** {@code DECLARE name ... WITH HOLD FOR query}; {@code i} follows DECLARE. */
  private void withHold(int i, int to) {
    for (; i < to && !t.isWord(i, "for"); i++) {
      if (t.isWord(i, "with") && t.isWord(i + 1, "hold")) {
        fx.pin(Effects.PIN_WITH_HOLD);
        return;
      }
    }
  }
}

// purpose: extracts session-level setting changes (SET / RESET / DISCARD ALL) and role switches from one statement
package io.pgbalancer.sql;

import java.util.Locale;

/**
 * Parses the session effects of {@code SET}, {@code RESET} and {@code DISCARD} statements given as a token range.
 * Transaction-scoped forms ({@code SET LOCAL}, {@code SET TRANSACTION}, {@code SET CONSTRAINTS}) are ignored;
 * role changes pin the session instead of producing a {@link SessionSet}.
 */
final class SessionSetParser {
  private SessionSetParser() {
  }

  /** {@code t[from]} is {@code SET}; {@code to} is the exclusive end of the statement. */
  static void parseSet(TokenBuffer t, int from, int to, Effects fx) {
    int i = from + 1;
    if (t.isWord(i, "local") || t.isWord(i, "transaction") || t.isWord(i, "constraints")) {
      return;
    }
    if (t.isWord(i, "session")) {
      i++;
      if (t.isWord(i, "authorization")) {
        fx.pin(Effects.PIN_ROLE);
        return;
      }
      if (t.isWord(i, "characteristics")) {
        parseCharacteristics(t, i + 1, to, fx);
        return;
      }
    }
    if (t.isWord(i, "role")) { // SET ROLE x, SET role = x, SET SESSION ROLE x
      fx.pin(Effects.PIN_ROLE);
      return;
    }
    if (t.isWord(i, "time") && t.isWord(i + 1, "zone")) {
      value(t, "timezone", i + 2, to, fx, false);
      return;
    }
    if (t.isWord(i, "schema")) {
      value(t, "search_path", i + 1, to, fx, false);
      return;
    }
    if (t.isWord(i, "names")) {
      value(t, "client_encoding", i + 1, to, fx, true);
      return;
    }
    if (t.isWord(i, "xml") && t.isWord(i + 1, "option")) {
      value(t, "xmloption", i + 2, to, fx, false);
      return;
    }
    if (!t.isName(i) || i >= to) {
      return;
    }
    StringBuilder name = new StringBuilder(t.name(i++));
    while (i + 1 < to && t.is(i, TokenType.DOT) && t.isName(i + 1)) {
      name.append('.').append(t.name(i + 1));
      i += 2;
    }
    if (!(t.isWord(i, "to") || isEquals(t, i))) {
      return; // e.g. SET x FROM CURRENT (only valid in function definitions) or a syntax error
    }
    String guc = name.toString().toLowerCase(Locale.ROOT);
    if (guc.equals("role") || guc.equals("session_authorization")) {
      fx.pin(Effects.PIN_ROLE);
      return;
    }
    value(t, guc, i + 1, to, fx, false);
  }

  /** {@code t[from]} is {@code RESET}. */
  static void parseReset(TokenBuffer t, int from, int to, Effects fx) {
    int i = from + 1;
    if (i >= to) {
      return;
    }
    if (t.isWord(i, "all") && i + 1 == to) {
      fx.addSet(SessionSet.resetAll());
    } else if (t.isWord(i, "time") && t.isWord(i + 1, "zone")) {
      fx.addSet(SessionSet.reset("timezone"));
    } else if (t.isWord(i, "session") && t.isWord(i + 1, "authorization")) {
      fx.addSet(SessionSet.reset("session_authorization"));
    } else if (t.isWord(i, "transaction")) {
      return; // RESET TRANSACTION ISOLATION LEVEL: transaction scoped
    } else if (t.isName(i)) {
      StringBuilder name = new StringBuilder(t.name(i++));
      while (i + 1 < to && t.is(i, TokenType.DOT) && t.isName(i + 1)) {
        name.append('.').append(t.name(i + 1));
        i += 2;
      }
      fx.addSet(SessionSet.reset(name.toString().toLowerCase(Locale.ROOT)));
    }
  }

  /** {@code t[from]} is {@code DISCARD}: only {@code DISCARD ALL} resets settings. */
  static void parseDiscard(TokenBuffer t, int from, int to, Effects fx) {
    if (t.isWord(from + 1, "all") && from + 2 == to) {
      fx.addSet(SessionSet.resetAll());
    }
  }

  /** {@code SET SESSION CHARACTERISTICS AS TRANSACTION mode [, ...]}; {@code i} is at {@code AS}. */
  private static void parseCharacteristics(TokenBuffer t, int i, int to, Effects fx) {
    if (!t.isWord(i, "as") || !t.isWord(i + 1, "transaction")) {
      return;
    }
    i += 2;
    while (i < to) {
      if (t.is(i, TokenType.COMMA)) {
        i++;
      } else if (t.isWord(i, "isolation") && t.isWord(i + 1, "level")) {
        i += 2;
        int words = t.isWord(i, "serializable") ? 1 : t.isWord(i, "repeatable") || t.isWord(i, "read") ? 2 : 0;
        if (words == 0 || i + words > to) {
          return;
        }
        String level = t.span(i, i + words - 1).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        fx.addSet(SessionSet.set("default_transaction_isolation", "'" + level + "'"));
        i += words;
      } else if (t.isWord(i, "read") && t.isWord(i + 1, "only")) {
        fx.addSet(SessionSet.set("default_transaction_read_only", "on"));
        i += 2;
      } else if (t.isWord(i, "read") && t.isWord(i + 1, "write")) {
        fx.addSet(SessionSet.set("default_transaction_read_only", "off"));
        i += 2;
      } else if (t.isWord(i, "not") && t.isWord(i + 1, "deferrable")) {
        fx.addSet(SessionSet.set("default_transaction_deferrable", "off"));
        i += 2;
      } else if (t.isWord(i, "deferrable")) {
        fx.addSet(SessionSet.set("default_transaction_deferrable", "on"));
        i++;
      } else {
        return;
      }
    }
  }

  /**
   * Records {@code name} set to the tokens {@code [i, to)} as written. A lone {@code DEFAULT} (or, for
   * {@code SET TIME ZONE}, {@code LOCAL}) is a reset; an empty value is a reset only if {@code emptyIsDefault}.
   */
  private static void value(TokenBuffer t, String name, int i, int to, Effects fx, boolean emptyIsDefault) {
    if (i >= to) {
      if (emptyIsDefault) {
        fx.addSet(SessionSet.reset(name));
      }
      return;
    }
    if (i + 1 == to && (t.isWord(i, "default") || (name.equals("timezone") && t.isWord(i, "local")))) {
      fx.addSet(SessionSet.reset(name));
      return;
    }
    fx.addSet(SessionSet.set(name, t.span(i, to - 1)));
  }

  private static boolean isEquals(TokenBuffer t, int i) {
    return t.is(i, TokenType.OPERATOR) && t.end(i) - t.start(i) == 1 && t.sql.charAt(t.start(i)) == '=';
  }
}

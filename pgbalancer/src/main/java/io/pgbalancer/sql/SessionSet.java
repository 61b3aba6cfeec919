// purpose: one session-level setting change (SET / RESET / RESET ALL) or savepoint step found in a statement
package io.pgbalancer.sql;

/**
 * A session-scoped setting change that the router must replay on (or reset from) any other backend the
 * client is moved to.
 *
 * @param name     lower-cased GUC name (e.g. {@code "search_path"}, {@code "timezone"}, {@code "myapp.user_id"});
 *                 {@code null} for {@link Kind#RESET_ALL}
 * @param valueSql the value text exactly as written after {@code TO}/{@code =} (trimmed), e.g. {@code 'UTC'} or
 *                 {@code public, "My Schema"}, so {@code SET name TO valueSql} re-applies it; {@code null} for resets
 * @param kind      what happened
 * @param statement index of the {@code ;}-separated statement that makes the change, so the change is counted only
 *                  when the server reports that statement complete
 */
public record SessionSet(String name, String valueSql, Kind kind, int statement) {
  /** Kind of change. */
  public enum Kind {
    /** {@code SET name TO value}. */
    SET,
    /** {@code RESET name} or {@code SET name TO DEFAULT}. */
    RESET,
    /** {@code RESET ALL} or {@code DISCARD ALL}. */
    RESET_ALL,
    /** {@code SAVEPOINT name}: later changes can be undone back to here. */
    SAVEPOINT,
    /** {@code ROLLBACK TO [SAVEPOINT] name}: undoes the changes made since that savepoint, which stays. */
    ROLLBACK_TO,
    /** {@code RELEASE [SAVEPOINT] name}: forgets that savepoint and the later ones; the changes stay. */
    RELEASE,
    /** Not from SQL: pgbalancer put a startup parameter back to the client's value after a RESET (see
     * SettingsLedger); for the client it is the same as RESET. */
    RESTORE;

    /** Whether this kind changes a setting (the savepoint kinds only decide which changes survive). */
    public boolean changesSetting() {
      return this == SET || this == RESET || this == RESET_ALL || this == RESTORE;
    }
  }

  public SessionSet(String name, String valueSql, Kind kind) {
    this(name, valueSql, kind, 0);
  }

  public SessionSet {
    if (kind == null) {
      throw new IllegalArgumentException("kind is required");
    }
    if (kind == Kind.RESET_ALL && name != null) {
      throw new IllegalArgumentException("RESET_ALL has no name");
    }
    if (kind != Kind.RESET_ALL && name == null) {
      throw new IllegalArgumentException(kind + " needs a name");
    }
  }

  static SessionSet set(String name, String valueSql) {
    return new SessionSet(name, valueSql, Kind.SET);
  }

  static SessionSet reset(String name) {
    return new SessionSet(name, null, Kind.RESET);
  }

  static SessionSet resetAll() {
    return new SessionSet(null, null, Kind.RESET_ALL);
  }

  static SessionSet savepoint(Kind kind, String name) {
    return new SessionSet(name, null, kind);
  }

  /** The same change attributed to statement {@code index} of its text. */
  SessionSet inStatement(int index) {
    return index == statement ? this : new SessionSet(name, valueSql, kind, index);
  }
}

// purpose: the immutable result of classifying one statement text (route, hint, transaction control, session effects)
package io.pgbalancer.sql;

import java.util.List;

/**
 * What the router needs to know about one statement text (which may hold several {@code ;}-separated statements).
 *
 * @param route          where to send it. The hint is already applied: a {@code primary} hint forces {@link Route#WRITE}
 *                       and a {@code replica} hint forces {@link Route#READ}.
 * @param hint           the leading routing-hint comment, if any
 * @param txn            transaction control of the first statement that has one
 * @param sets           session-level setting changes, in order (never null)
 * @param pins           the session must stay on one backend from now on
 * @param pinReason      human readable reason for {@code pins} (first one found), null when {@code !pins}
 * @param statementCount number of non-empty {@code ;}-separated statements
 * @param maxStalenessNanos the leading {@code /* pgbalancer: max_staleness=... * /} hint in nanoseconds, -1 when there
 *                       is none (an invalid value is no hint; see {@link HintParser})
 */
public record Classification(
    Route route,
    Hint hint,
    TxnControl txn,
    List<SessionSet> sets,
    boolean pins,
    String pinReason,
    int statementCount,
    long maxStalenessNanos) {

  /** Where a statement may run. */
  public enum Route {
    /** Read-only: may be sent to a replica. */
    READ,
    /** Writes or has side effects: must go to the primary. */
    WRITE
  }

  /** Routing hint from a leading {@code /* pgbalancer: primary|replica * /} comment. */
  public enum Hint {
    NONE,
    PRIMARY,
    REPLICA
  }

  /** Transaction control performed by a statement. */
  public enum TxnControl {
    NONE,
    /** {@code BEGIN} / {@code START TRANSACTION} (read-write or default). */
    BEGIN,
    /** {@code BEGIN READ ONLY} / {@code START TRANSACTION ... READ ONLY}. */
    BEGIN_READ_ONLY,
    /** {@code COMMIT}, {@code END}, {@code COMMIT AND CHAIN}. */
    COMMIT,
    /** {@code ROLLBACK}, {@code ABORT} (not {@code ROLLBACK TO SAVEPOINT}). */
    ROLLBACK
  }

  /** {@link #maxStalenessNanos()} when the text has no staleness hint. */
  public static final long NO_STALENESS_HINT = -1;

  private static final Classification READ_ONE = new Classification(Route.READ, Hint.NONE, TxnControl.NONE, List.of(), false, null, 1);
  private static final Classification WRITE_ONE = new Classification(Route.WRITE, Hint.NONE, TxnControl.NONE, List.of(), false, null, 1);

  public Classification {
    if (route == null || hint == null || txn == null) {
      throw new IllegalArgumentException("route, hint and txn are required");
    }
    if (maxStalenessNanos < NO_STALENESS_HINT) {
      throw new IllegalArgumentException("maxStalenessNanos must be -1 (none) or a duration");
    }
    sets = sets == null ? List.of() : List.copyOf(sets);
    if (!pins) {
      pinReason = null;
    }
  }

  /** Without a staleness hint. */
  public Classification(Route route, Hint hint, TxnControl txn, List<SessionSet> sets, boolean pins, String pinReason,
      int statementCount) {
    this(route, hint, txn, sets, pins, pinReason, statementCount, NO_STALENESS_HINT);
  }

  /** Returns a shared instance for the common plain cases, a new record otherwise. */
  static Classification of(Route route, Hint hint, TxnControl txn, List<SessionSet> sets,
      boolean pins, String pinReason, int statementCount, long maxStalenessNanos) {
    if (hint == Hint.NONE && txn == TxnControl.NONE && (sets == null || sets.isEmpty()) && !pins && statementCount == 1
        && maxStalenessNanos == NO_STALENESS_HINT) {
      return route == Route.READ ? READ_ONE : WRITE_ONE;
    }
    return new Classification(route, hint, txn, sets, pins, pinReason, statementCount, maxStalenessNanos);
  }

  /** True when the statement may go to a replica. */
  public boolean isRead() {
    return route == Route.READ;
  }
}

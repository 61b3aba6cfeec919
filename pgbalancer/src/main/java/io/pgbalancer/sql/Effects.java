// purpose: mutable accumulator of what the statements of one text do (route, txn, session sets, pinning)
package io.pgbalancer.sql;

import io.pgbalancer.sql.Classification.TxnControl;
import java.util.ArrayList;
import java.util.List;

/** Collects per-statement findings while one SQL text is classified; turned into a {@link Classification}. */
final class Effects {
  static final String PIN_LISTEN = "LISTEN";
  static final String PIN_ADVISORY_LOCK = "session advisory lock";
  static final String PIN_TEMP_TABLE = "temporary table";
  static final String PIN_WITH_HOLD = "WITH HOLD cursor";
  static final String PIN_PREPARE = "SQL PREPARE";
  static final String PIN_ROLE = "SET ROLE/SESSION AUTHORIZATION";
  static final String PIN_LOAD = "LOAD";
  static final String PIN_SET_CONFIG = "session set_config";

  boolean write;
  TxnControl txn = TxnControl.NONE;
  List<SessionSet> sets;
  boolean pins;
  String pinReason;
  int statements;

  /** Records transaction control unless an earlier statement already had one. */
  void txn(TxnControl control) {
    if (txn == TxnControl.NONE) {
      txn = control;
    }
  }

  void pin(String reason) {
    if (!pins) {
      pins = true;
      pinReason = reason;
    }
  }

  void addSet(SessionSet set) {
    if (sets == null) {
      sets = new ArrayList<>(2);
    }
    sets.add(set.inStatement(statements - 1)); // statements counts the one being analyzed
  }

  List<SessionSet> sets() {
    return sets == null ? List.of() : sets;
  }
}

// purpose: names of functions whose call forces the primary (built-in list + configured extras), matched without allocation
package io.pgbalancer.sql;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Functions with side effects (or that only work on the primary, or depend on session state created by one).
 * Lookup hashes the identifier span in place, folding ASCII case, so checking a call costs no allocation.
 * Names are matched on their last component: {@code pg_catalog.nextval(} and {@code "nextval"(} both match
 * {@code nextval}. Every {@code lo_*} function is treated as a write (large-object write modes are hard to see).
 */
final class WriteFunctions {
  static final int NONE = 0;
  static final int WRITE = 1;
  /** A write that also takes a session-level advisory lock, so the session must be pinned. */
  static final int SESSION_LOCK = 2;

  /** Session-level advisory lock functions: a write that pins the session. */
  static final Set<String> SESSION_LOCKS = Set.of(
      "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared");

  /** Built-in write functions (besides {@link #SESSION_LOCKS} and the {@code lo_} prefix). */
  static final Set<String> BUILT_IN = Set.of(
      // sequences (currval/lastval read state created by nextval in the same session)
      "nextval", "setval", "currval", "lastval", "setseed",
      // transaction-scoped advisory locks and unlocks
      "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
      "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
      "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all",
      // large objects not covered by the lo_ prefix
      "lowrite", "loread",
      // notifications, settings, transaction ids
      "pg_notify", "set_config", "txid_current", "txid_current_if_assigned",
      "pg_current_xact_id", "pg_current_xact_id_if_assigned",
      // WAL / server administration (several fail during recovery)
      "pg_switch_wal", "pg_switch_xlog", "pg_create_restore_point", "pg_current_wal_lsn",
      "pg_current_wal_insert_lsn", "pg_current_wal_flush_lsn", "pg_current_xlog_location",
      "pg_walfile_name", "pg_walfile_name_offset", "pg_backup_start", "pg_backup_stop",
      "pg_start_backup", "pg_stop_backup", "pg_terminate_backend", "pg_cancel_backend",
      "pg_reload_conf", "pg_rotate_logfile",
      // statistics resets
      "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters",
      "pg_stat_reset_single_function_counters", "pg_stat_reset_slru", "pg_stat_reset_replication_slot",
      "pg_stat_statements_reset",
      // replication slots and origins, logical decoding
      "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
      "pg_drop_replication_slot", "pg_replication_slot_advance", "pg_copy_physical_replication_slot",
      "pg_copy_logical_replication_slot", "pg_logical_slot_get_changes",
      "pg_logical_slot_get_binary_changes", "pg_logical_emit_message",
      "pg_replication_origin_create", "pg_replication_origin_drop", "pg_replication_origin_advance",
      "pg_replication_origin_session_setup", "pg_replication_origin_session_reset",
      "pg_replication_origin_xact_setup",
      // server files, remote execution
      "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_truncate_visibility_map", "dblink_exec");

  private final String[][] buckets;
  private final int mask;

  WriteFunctions(Set<String> extraNames) {
    Set<String> all = new HashSet<>(BUILT_IN);
    all.addAll(SESSION_LOCKS);
    if (extraNames != null) {
      for (String raw : extraNames) {
        String name = normalize(raw);
        if (!name.isEmpty()) {
          all.add(name);
        }
      }
    }
    int size = Integer.highestOneBit(Math.max(16, all.size() * 2) - 1) << 1;
    mask = size - 1;
    buckets = new String[size][];
    for (String name : all) {
      int b = spread(hash(name, 0, name.length())) & mask;
      String[] old = buckets[b];
      String[] grown = old == null ? new String[1] : java.util.Arrays.copyOf(old, old.length + 1);
      grown[grown.length - 1] = name;
      buckets[b] = grown;
    }
  }

  /** Lower-cases, trims and strips a schema prefix ({@code "app.audit"} matches calls of {@code audit}). */
  static String normalize(String raw) {
    if (raw == null) {
      return "";
    }
    String name = raw.trim().toLowerCase(Locale.ROOT);
    int dot = name.lastIndexOf('.');
    if (dot >= 0) {
      name = name.substring(dot + 1);
    }
    if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
      name = name.substring(1, name.length() - 1);
    }
    return name.trim();
  }

  /**
   * Classifies the function name {@code sql[start, end)} (an identifier without quotes).
   * Returns {@link #NONE}, {@link #WRITE} or {@link #SESSION_LOCK}.
   */
  int lookup(String sql, int start, int end) {
    int len = end - start;
    if (len <= 0) {
      return NONE;
    }
    if (len > 3 && TokenBuffer.equalsIgnoreAsciiCase(sql, start, 3, "lo_")) {
      return WRITE;
    }
    String[] bucket = buckets[spread(hash(sql, start, end)) & mask];
    if (bucket == null) {
      return NONE;
    }
    for (String name : bucket) {
      if (TokenBuffer.equalsIgnoreAsciiCase(sql, start, len, name)) {
        return SESSION_LOCKS.contains(name) ? SESSION_LOCK : WRITE;
      }
    }
    return NONE;
  }

  private static int hash(String s, int start, int end) {
    int h = 0;
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      h = 31 * h + c;
    }
    return h;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }
}

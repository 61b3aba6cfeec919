// purpose: bounded concurrent cache of classifications keyed by statement text: direct-mapped, O(1) with no eviction scans
package io.pgbalancer.sql;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A direct-mapped table: each text hashes to one slot and a new text simply replaces the slot's old entry. Simple-
 * protocol traffic with inline literals makes almost every text new, so inserts must cost nothing beyond the slot
 * write (a map with bulk eviction spent a fifth of the proxy's CPU evicting). Hot statements stay cached because
 * they keep being re-inserted when displaced. Entries are immutable, so readers need no locks. Texts longer than
 * {@link #MAX_CACHED_LENGTH} characters are never cached (typically one-off generated SQL).
 */
final class ClassificationCache {
  static final int MAX_CACHED_LENGTH = 8192;

  private record Entry(String sql, Classification classification) {
  }

  private final AtomicReferenceArray<Entry> slots;
  private final int mask;

  ClassificationCache(int capacity) {
    int size = capacity <= 0 ? 0 : Integer.highestOneBit(Math.max(1, capacity));
    this.slots = new AtomicReferenceArray<>(size);
    this.mask = size - 1;
  }

  /** The cached classification or null. */
  Classification get(String sql) {
    if (mask < 0) {
      return null;
    }
    Entry e = slots.get(slot(sql));
    return e != null && e.sql.equals(sql) ? e.classification : null;
  }

  /** Caches {@code c} if allowed and returns it. */
  Classification put(String sql, Classification c) {
    if (mask >= 0 && sql.length() <= MAX_CACHED_LENGTH) {
      slots.set(slot(sql), new Entry(sql, c));
    }
    return c;
  }

  private int slot(String sql) {
    int h = sql.hashCode();
    return (h ^ (h >>> 16)) & mask;
  }

  int size() {
    int n = 0;
    for (int i = 0; i < slots.length(); i++) {
      if (slots.get(i) != null) {
        n++;
      }
    }
    return n;
  }

  int capacity() {
    return slots.length();
  }

  void clear() {
    for (int i = 0; i < slots.length(); i++) {
      slots.set(i, null);
    }
  }
}

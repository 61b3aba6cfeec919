// purpose: bounded concurrent cache of classifications keyed by statement text, with cheap bulk eviction
package io.pgbalancer.sql;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link ConcurrentHashMap} with a size cap. When an insert pushes it over the cap, one thread drops
 * about an eighth of the entries in the map's iteration order (effectively random with respect to use),
 * so eviction costs O(1) amortised per insert and never blocks readers. Texts longer than
 * {@link #MAX_CACHED_LENGTH} characters are never cached (typically one-off generated SQL).
 */
final class ClassificationCache {
  static final int MAX_CACHED_LENGTH = 8192;

  private final ConcurrentHashMap<String, Classification> map;
  private final int capacity;
  private final AtomicBoolean evicting = new AtomicBoolean();

  ClassificationCache(int capacity) {
    this.capacity = Math.max(0, capacity);
    this.map = new ConcurrentHashMap<>(Math.min(this.capacity, 1 << 16));
  }

  /** The cached classification or null. */
  Classification get(String sql) {
    return capacity == 0 ? null : map.get(sql);
  }

  /** Caches {@code c} if allowed and returns the instance now associated with {@code sql} (first writer wins). */
  Classification put(String sql, Classification c) {
    if (capacity == 0 || sql.length() > MAX_CACHED_LENGTH) {
      return c;
    }
    Classification prior = map.putIfAbsent(sql, c);
    if (prior != null) {
      return prior;
    }
    if (map.size() > capacity) {
      evict();
    }
    return c;
  }

  int size() {
    return map.size();
  }

  int capacity() {
    return capacity;
  }

  void clear() {
    map.clear();
  }

  private void evict() {
    if (!evicting.compareAndSet(false, true)) {
      return; // another thread is already making room
    }
    try {
      int target = capacity - Math.max(1, capacity / 8);
      Iterator<String> it = map.keySet().iterator();
      while (it.hasNext() && map.size() > target) {
        it.next();
        it.remove();
      }
    } finally {
      evicting.set(false);
    }
  }
}

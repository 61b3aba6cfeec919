// Recent WAL positions of the primary with the time each was seen, to tell how old a replica's missing data can be.
package io.pgbalancer.monitor;

import io.pgbalancer.causal.Lsn;

/**
 * A replica that has replayed up to position R has everything the primary had written at any time its position was
 * at most R. So the newest data it may lack was written after the last sample at or below R: its lag in time is at
 * most the age of that sample. Thread-safe; written by the primary's poller, read by the replicas' pollers.
 */
final class PrimaryHistory {
    private static final int SIZE = 256;
    private final long[] lsns = new long[SIZE];
    private final long[] nanos = new long[SIZE];
    private int count;
    private int next;

    synchronized void add(long lsn, long atNanos) {
        lsns[next] = lsn;
        nanos[next] = atNanos;
        next = (next + 1) % SIZE;
        count = Math.min(count + 1, SIZE);
    }

    /** The primary's latest known position, 0 when never seen. */
    synchronized long latest() {
        return count == 0 ? 0 : lsns[(next - 1 + SIZE) % SIZE];
    }

    /**
     * An upper bound of the age of the newest write a replica at {@code replayed} lacks: 0 when it has the latest
     * position, the age of the newest sample at or below {@code replayed} otherwise, and Long.MAX_VALUE when no sample
     * is that old.
     */
    synchronized long lagNanos(long replayed, long nowNanos) {
        if (count == 0 || Lsn.reached(replayed, latest())) {
            return 0;
        }
        for (int i = 1; i <= count; i++) {
            int at = (next - i + SIZE) % SIZE;
            if (Lsn.reached(replayed, lsns[at])) {
                return nowNanos - nanos[at];
            }
        }
        return Long.MAX_VALUE;
    }
}

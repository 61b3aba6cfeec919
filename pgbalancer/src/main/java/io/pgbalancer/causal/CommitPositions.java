// The latest commit positions learned through this pgbalancer: overall, and per user and database.
package io.pgbalancer.causal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Thread-safe; positions only move forward. A session keeps its user's counter from login on. */
public final class CommitPositions {
    private final AtomicLong global = new AtomicLong();
    private final ConcurrentHashMap<String, AtomicLong> byUser = new ConcurrentHashMap<>();

    /** The counter of commits by {@code user} on {@code database}. */
    public AtomicLong forUser(String user, String database) {
        return byUser.computeIfAbsent(user + '\0' + database, k -> new AtomicLong());
    }

    /** A transaction of that user committed at or before {@code lsn}. */
    public void committed(AtomicLong user, long lsn) {
        advance(user, lsn);
        advance(global, lsn);
    }

    /** The latest commit position learned from any session. */
    public long global() {
        return global.get();
    }

    static void advance(AtomicLong position, long lsn) {
        long seen;
        while (!Lsn.reached(seen = position.get(), lsn)) {
            if (position.compareAndSet(seen, lsn)) {
                return;
            }
        }
    }
}

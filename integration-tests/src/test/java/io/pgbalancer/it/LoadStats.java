// purpose: test helper for FaultMatrixIT: what MixedLoad counts: totals, failures, the longest time without a
// completed operation, and where a pgjdbc connection's socket is (to find it in SHOW CLIENTS).
package io.pgbalancer.it;

import java.sql.Connection;
import java.util.concurrent.TimeUnit;

final class LoadStats {
    private LoadStats() {
    }

    /** Totals since the start; {@link #minus} gives a case's share. */
    record Totals(long writes, long reads, long writeErrors, long readErrors, long wrong) {
        Totals minus(Totals before) {
            return new Totals(writes - before.writes, reads - before.reads, writeErrors - before.writeErrors,
                    readErrors - before.readErrors, wrong - before.wrong);
        }
    }

    /** A failed operation: which client, when, and the SQLSTATE and message it got. */
    record Failure(String client, long nanos, String sqlState, String message) {
        @Override
        public String toString() {
            return client + ": " + sqlState + " " + message;
        }
    }

    /** The longest time in which no client completed an operation of one kind (any client's counts). */
    static final class Gap {
        private long last = System.nanoTime();
        private long longest;

        synchronized void completed(long now) {
            longest = Math.max(longest, now - last);
            last = now;
        }

        synchronized void reset(long now) {
            last = now;
            longest = 0;
        }

        synchronized long longestMillis() {
            return TimeUnit.NANOSECONDS.toMillis(longest);
        }
    }

    /** The local port of a pgjdbc connection's socket (to find it in SHOW CLIENTS), -1 when unknown. */
    static int localPort(Connection c) {
        try {
            Object executor = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor();
            for (Class<?> k = executor.getClass(); k != null; k = k.getSuperclass()) {
                for (java.lang.reflect.Field f : k.getDeclaredFields()) {
                    if (f.getName().equals("pgStream")) {
                        f.setAccessible(true);
                        return ((org.postgresql.core.PGStream) f.get(executor)).getSocket().getLocalPort();
                    }
                }
            }
        } catch (Exception e) {
            // diagnostics only
        }
        return -1;
    }
}

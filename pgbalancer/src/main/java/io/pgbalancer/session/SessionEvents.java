// What sessions report for metrics: how long checkouts waited, each server's cycle latency, errors by SQLSTATE class.
package io.pgbalancer.session;

import io.pgbalancer.routing.BackendNode;

/** Called on the sessions' event loops; the listener (the metrics registry) must be cheap and thread-safe. */
public final class SessionEvents {
    /** Receives the events; the default ignores them. */
    public interface Listener {
        /** A transaction got its backend connection after {@code nanos} (0 when one was idle). */
        void checkoutWaited(long nanos);

        /** A cycle (messages up to a Sync or Query) took {@code nanos} on {@code node}, from send to ReadyForQuery. */
        void cycle(BackendNode node, long nanos);

        /** A server answered an error of SQLSTATE class {@code sqlStateClass} (its first two characters). */
        void error(String sqlStateClass);
    }

    private static final Listener NONE = new Listener() {
        @Override
        public void checkoutWaited(long nanos) {
        }

        @Override
        public void cycle(BackendNode node, long nanos) {
        }

        @Override
        public void error(String sqlStateClass) {
        }
    };

    private volatile Listener listener = NONE;

    public void listen(Listener l) {
        listener = l;
    }

    Listener listener() {
        return listener;
    }
}

// purpose: what PeerBudget tells its consumer: how many pgbalancer pods share the budget, and this pod's rank
package io.pgbalancer.k8s;

/** Called on PeerBudget's threads; implementations must not block (see {@link EndpointsListener}). */
public interface PeerListener {
    /**
     * {@code count} ready pgbalancer pods (this one included, counted last when it is not ready yet) and this pod's
     * position among them (0-based); pass both to {@link PeerBudget#share(int, int, int)}. Called on each change,
     * the first time once the peers Service's EndpointSlices have been listed.
     */
    void peers(int count, int rank);

    /** As {@link EndpointsListener#health}: the peer count may be out of date while stale. */
    default void health(boolean stale, String reason) {
    }
}

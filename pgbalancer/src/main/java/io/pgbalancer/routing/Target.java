// Where a transaction runs: the primary, a replica chosen per transaction, or any server that takes connections.
package io.pgbalancer.routing;

public enum Target {
    PRIMARY,
    REPLICA,
    /**
     * A cycle that only changes session settings (SET/RESET, see {@link TransactionRouter}): it reads and writes no
     * data and pgbalancer replays the settings on whichever server the session's next transaction gets, so it runs
     * on the primary while that takes connections, else on a replica, instead of waiting for a primary.
     */
    ANY
}

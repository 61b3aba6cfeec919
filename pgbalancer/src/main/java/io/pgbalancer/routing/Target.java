// Where a transaction runs: the primary, or a replica chosen per transaction.
package io.pgbalancer.routing;

public enum Target {
    PRIMARY,
    REPLICA
}

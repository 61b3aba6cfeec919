// Identifies one pool: backend connections to one server (node), logged in as one user to one database.
package io.pgbalancer.pool;

import io.pgbalancer.config.Backend;
import io.pgbalancer.routing.BackendNode;

/** Nodes compare by identity: a server removed by a reload and added again later gets new pools. */
public record PoolKey(BackendNode node, String user, String database) {
    /** The server's current configuration entry. */
    public Backend backend() {
        return node.backend();
    }

    public String describe() {
        return user + "@" + database + " on " + node.describe();
    }
}

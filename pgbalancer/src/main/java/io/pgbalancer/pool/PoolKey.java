// Identifies one pool: backend connections to one server, logged in as one user to one database.
package io.pgbalancer.pool;

import io.pgbalancer.config.Backend;

public record PoolKey(Backend backend, String user, String database) {
    public String describe() {
        return user + "@" + database + " on " + backend.role().name().toLowerCase() + " " + backend.host() + ":"
                + backend.port();
    }
}

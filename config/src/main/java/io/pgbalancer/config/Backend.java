// purpose: one PostgreSQL server pgbalancer forwards to (an entry of the YAML list "backends")
package io.pgbalancer.config;

import java.util.Objects;

/** {@code maxConnections} null means unlimited; otherwise it is positive. {@code weight} is positive. */
public record Backend(String host, int port, Role role, int weight, Integer maxConnections) {
    public static final int DEFAULT_PORT = 5432;
    public static final int DEFAULT_WEIGHT = 1;

    public Backend {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(role, "role");
    }

    /** host:port, with IPv6 literals in brackets. */
    public String address() {
        return Addresses.format(host, port);
    }
}

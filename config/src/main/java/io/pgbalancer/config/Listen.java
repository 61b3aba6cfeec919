// purpose: the address pgbalancer accepts client connections on (YAML section "listen")
package io.pgbalancer.config;

import java.util.Objects;

public record Listen(String host, int port) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 6432;

    public Listen {
        Objects.requireNonNull(host, "host");
    }

    public static Listen defaults() {
        return new Listen(DEFAULT_HOST, DEFAULT_PORT);
    }
}

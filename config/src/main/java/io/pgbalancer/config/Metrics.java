// purpose: the Prometheus metrics endpoint (YAML section "metrics"); off unless a port is given
package io.pgbalancer.config;

import java.util.Objects;

/** {@code port} 0 means no endpoint. */
public record Metrics(String host, int port) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DISABLED = 0;

    public Metrics {
        Objects.requireNonNull(host, "host");
    }

    public boolean enabled() {
        return port != DISABLED;
    }

    public static Metrics defaults() {
        return new Metrics(DEFAULT_HOST, DISABLED);
    }
}

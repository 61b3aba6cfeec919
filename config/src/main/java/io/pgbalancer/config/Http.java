// purpose: the HTTP endpoint for /metrics, /health, /ready (YAML section "http", formerly "metrics"); off unless a port is given
package io.pgbalancer.config;

import java.util.Objects;

/** {@code port} 0 means no endpoint. */
public record Http(String host, int port) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DISABLED = 0;

    public Http {
        Objects.requireNonNull(host, "host");
    }

    public boolean enabled() {
        return port != DISABLED;
    }

    public static Http defaults() {
        return new Http(DEFAULT_HOST, DISABLED);
    }
}

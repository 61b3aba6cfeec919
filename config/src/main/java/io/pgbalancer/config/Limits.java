// purpose: resource limits protecting pgbalancer (YAML section "limits")
package io.pgbalancer.config;

/**
 * {@code maxMessageSize} is in bytes (1 KiB .. 1 GiB); {@code maxClientConnections} is positive and counts client
 * connections from accept; {@code authTimeout} is how long a connection may take to log in (positive).
 */
public record Limits(int maxMessageSize, int maxClientConnections, java.time.Duration authTimeout) {
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024;
    public static final int DEFAULT_MAX_CLIENT_CONNECTIONS = 10_000;
    public static final java.time.Duration DEFAULT_AUTH_TIMEOUT = java.time.Duration.ofSeconds(10);

    public Limits {
        java.util.Objects.requireNonNull(authTimeout, "authTimeout");
    }

    /** Limits with the default auth_timeout. */
    public Limits(int maxMessageSize, int maxClientConnections) {
        this(maxMessageSize, maxClientConnections, DEFAULT_AUTH_TIMEOUT);
    }

    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_CLIENT_CONNECTIONS, DEFAULT_AUTH_TIMEOUT);
    }
}

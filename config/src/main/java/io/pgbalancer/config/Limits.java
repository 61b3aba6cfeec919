// purpose: resource limits protecting pgbalancer (YAML section "limits")
package io.pgbalancer.config;

/** {@code maxMessageSize} is in bytes (1 KiB .. 1 GiB); {@code maxClientConnections} is positive. */
public record Limits(int maxMessageSize, int maxClientConnections) {
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024;
    public static final int DEFAULT_MAX_CLIENT_CONNECTIONS = 10_000;

    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_CLIENT_CONNECTIONS);
    }
}

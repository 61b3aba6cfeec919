// purpose: reads and validates the "limits" section
package io.pgbalancer.config;

import io.pgbalancer.config.ValueReader.DurationRule;
import java.util.List;

final class LimitsReader {
    static final List<String> KEYS = List.of("max_message_size", "max_client_connections", "auth_timeout");
    static final java.time.Duration MAX_AUTH_TIMEOUT = java.time.Duration.ofMinutes(10);
    static final int MIN_MESSAGE_SIZE = 1024;
    static final int MAX_MESSAGE_SIZE = 1024 * 1024 * 1024;

    private LimitsReader() {
    }

    static Limits read(ValueReader values, MappingReader limits) {
        int maxMessageSize = limits.get("max_message_size")
                .flatMap(n -> values.size(limits.path("max_message_size"), n,
                        MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE, "1kB and 1GiB"))
                .orElse(Limits.DEFAULT_MAX_MESSAGE_SIZE);
        int maxClientConnections = limits.get("max_client_connections")
                .flatMap(n -> values.positiveInteger(limits.path("max_client_connections"), n))
                .orElse(Limits.DEFAULT_MAX_CLIENT_CONNECTIONS);
        java.time.Duration authTimeout = limits.get("auth_timeout")
                .flatMap(n -> values.duration(limits.path("auth_timeout"), n, DurationRule.POSITIVE, MAX_AUTH_TIMEOUT,
                        "10m"))
                .orElse(Limits.DEFAULT_AUTH_TIMEOUT);
        return new Limits(maxMessageSize, maxClientConnections, authTimeout);
    }
}

// purpose: one DNS name (e.g. a headless Service) whose A/AAAA records are endpoints (YAML "discovery.dns[i]")
package io.pgbalancer.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Every address {@code name} resolves to is a server on {@code port}; resolved again every {@code interval}.
 * {@code role} is {@link Role#AUTO} unless the name only ever holds replicas (or the primary).
 * {@code maxConnections} null means unlimited.
 */
public record DnsDiscovery(String name, int port, Role role, Duration interval, int weight, Integer maxConnections) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    public static final Role DEFAULT_ROLE = Role.AUTO;

    public DnsDiscovery {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(interval, "interval");
    }
}

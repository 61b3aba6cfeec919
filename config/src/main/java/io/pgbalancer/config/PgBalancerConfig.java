// purpose: the complete, validated pgbalancer configuration (root of the YAML file)
package io.pgbalancer.config;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/** {@code warnings} are things the file should change but that do not stop it from loading (deprecated keys). */
public record PgBalancerConfig(Listen listen, Pool pool, Auth auth, List<Backend> backends, Limits limits,
                               Shutdown shutdown, Routing routing, Http http, Monitor monitor, Admin admin,
                               Discovery discovery, Tls tls, BackendTls backendTls, List<String> warnings) {
    public PgBalancerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(auth, "auth");
        backends = List.copyOf(backends);
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(shutdown, "shutdown");
        Objects.requireNonNull(http, "http");
        warnings = List.copyOf(warnings);
        Objects.requireNonNull(routing, "routing");
        Objects.requireNonNull(monitor, "monitor");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(discovery, "discovery");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(backendTls, "backendTls");
    }

    /** A configuration without TLS towards clients and libpq's default (prefer) towards the servers. */
    public PgBalancerConfig(Listen listen, Pool pool, Auth auth, List<Backend> backends, Limits limits,
                            Shutdown shutdown, Routing routing, Http http, Monitor monitor, Admin admin,
                            Discovery discovery, List<String> warnings) {
        this(listen, pool, auth, backends, limits, shutdown, routing, http, monitor, admin, discovery, Tls.disabled(),
                BackendTls.defaults(), warnings);
    }

    /** A configuration without discovery (static backends only) and without TLS settings (as the one above). */
    public PgBalancerConfig(Listen listen, Pool pool, Auth auth, List<Backend> backends, Limits limits,
                            Shutdown shutdown, Routing routing, Http http, Monitor monitor, Admin admin,
                            List<String> warnings) {
        this(listen, pool, auth, backends, limits, shutdown, routing, http, monitor, admin, Discovery.NONE,
                warnings);
    }

    /**
     * One line for the startup log, e.g. {@code config OK: listen 127.0.0.1:6432, tls require, transaction pooling,
     * pool size 20, 1 primary + 2 replicas + 1 auto, dns discovery of pg.db.svc, 1 user (scram-sha-256), routing
     * least-outstanding, consistency user}. Backends are counted unless there are none besides discovery; "auto" only
     * when there is one; tls only when clients may use it.
     */
    public String summary() {
        long primaries = backends.stream().filter(b -> b.role() == Role.PRIMARY).count();
        long replicas = backends.stream().filter(b -> b.role() == Role.REPLICA).count();
        long autos = backends.stream().filter(b -> b.role() == Role.AUTO).count();
        int users = auth.users().size();
        StringBuilder servers = new StringBuilder();
        if (!backends.isEmpty() || discovery.isEmpty()) {
            servers.append(", ").append(primaries).append(primaries == 1 ? " primary" : " primaries")
                    .append(" + ").append(replicas).append(replicas == 1 ? " replica" : " replicas");
            if (autos > 0) {
                servers.append(" + ").append(autos).append(" auto");
            }
        }
        if (!discovery.dns().isEmpty()) {
            servers.append(", dns discovery of ").append(discovery.dns().stream().map(DnsDiscovery::name)
                    .distinct().collect(Collectors.joining(" and ")));
        }
        if (discovery.kubernetes() != null) {
            String namespace = discovery.kubernetes().namespace();
            servers.append(", kubernetes discovery in ")
                    .append(namespace == null ? "the pod's namespace" : "namespace " + namespace);
        }
        return "config OK: listen " + Addresses.format(listen.host(), listen.port())
                + (tls.enabled() ? ", tls " + tls.mode().yamlName() : "")
                + ", " + pool.mode().yamlName() + " pooling"
                + ", pool size " + pool.size()
                + servers
                + ", " + users + (users == 1 ? " user" : " users")
                + " (" + auth.method().yamlName() + ")"
                + ", routing " + routing.balance().yamlName()
                + ", consistency " + routing.consistency().yamlName();
    }

    /** The backend configured with role primary; throws when there is none (roles auto or discovery). */
    public Backend primary() {
        return backends.stream()
                .filter(b -> b.role() == Role.PRIMARY)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("configuration has no backend with role primary"));
    }
}

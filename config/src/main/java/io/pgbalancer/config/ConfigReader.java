// purpose: walks the composed YAML document section by section and assembles a PgBalancerConfig
package io.pgbalancer.config;

import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

final class ConfigReader {
    static final String ROOT_PATH = "(root)";
    static final List<String> KEYS = List.of("listen", "pool", "auth", "backends", "limits", "shutdown", "routing",
            "http", "metrics", "monitor", "admin", "discovery", "tls", "backend_tls");

    private ConfigReader() {
    }

    /**
     * Reads every section, recording all problems in {@code values.problems()}. The result is only meaningful
     * when no problems were recorded (invalid values are replaced by placeholders so reading can continue).
     */
    static Optional<PgBalancerConfig> read(Node root, ValueReader values) {
        Problems problems = values.problems();
        if (root == null || Nodes.isNull(root)) {
            problems.add(ROOT_PATH, root, "configuration is empty (at least backends and auth.users are required)");
            return Optional.empty();
        }
        if (!(root instanceof MappingNode rootMapping)) {
            problems.add(ROOT_PATH, root, "expected a mapping at the top level, got " + Nodes.kind(root));
            return Optional.empty();
        }
        MappingReader top = MappingReader.of("", rootMapping, KEYS, problems);
        Listen listen = ListenReader.read(values, section(values, top, "listen", ListenReader.KEYS));
        Pool pool = PoolReader.read(values, section(values, top, "pool", PoolReader.KEYS));
        Auth auth = AuthReader.read(values, section(values, top, "auth", AuthReader.KEYS));
        // Discovery may supply every server, so with it (even a broken one) backends may be empty.
        boolean withDiscovery = top.get(DiscoveryReader.PATH).isPresent();
        int problemsBeforeBackends = problems.count();
        List<Backend> backends = BackendsReader.read(values, top, withDiscovery);
        boolean backendsComplete = problems.count() == problemsBeforeBackends;
        Limits limits = LimitsReader.read(values, section(values, top, "limits", LimitsReader.KEYS));
        Shutdown shutdown = ShutdownReader.read(values, section(values, top, "shutdown", ShutdownReader.KEYS));
        List<String> warnings = new java.util.ArrayList<>();
        if (top.get("metrics").isPresent() && top.get("http").isPresent()) {
            problems.add(top.path("metrics"), top.get("metrics").get(),
                    "metrics and http are the same section (metrics is its old name): keep only http");
        } else if (top.get("metrics").isPresent()) {
            warnings.add(HttpReader.DEPRECATED);
        }
        Http http = HttpReader.read(values, section(values, top, top.get("http").isPresent() ? "http" : "metrics",
                HttpReader.KEYS));
        MappingReader routingSection = section(values, top, "routing", RoutingReader.KEYS);
        Routing routing = RoutingReader.read(values, routingSection);
        if (backendsComplete) {
            RoutingReader.checkBackends(values, routingSection, routing, backends, withDiscovery);
        }
        Monitor monitor = MonitorReader.read(values, section(values, top, "monitor", MonitorReader.KEYS), auth);
        Admin admin = AdminReader.read(values, section(values, top, "admin", AdminReader.KEYS), auth);
        Discovery discovery = DiscoveryReader.read(values, top);
        Tls tls = TlsReader.read(values, top);
        BackendTls backendTls = BackendTlsReader.read(values, top);
        if (!problems.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new PgBalancerConfig(listen, pool, auth, backends, limits, shutdown, routing,
                http, monitor, admin, discovery, tls, backendTls, warnings));
    }

    private static MappingReader section(ValueReader values, MappingReader top, String key, List<String> keys) {
        return values.section(top.path(key), top.get(key), keys, top.node());
    }
}

// purpose: reads and validates the "monitor" section; the login defaults to the first configured user
package io.pgbalancer.config;

import io.pgbalancer.config.ValueReader.DurationRule;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

final class MonitorReader {
    static final List<String> KEYS = List.of("interval", "fast_interval", "connect_timeout", "query_timeout", "user",
            "password", "database");

    private MonitorReader() {
    }

    static Monitor read(ValueReader values, MappingReader monitor, Auth auth) {
        // Empty when interval is present but invalid (already reported): fast_interval is then not compared.
        Optional<Duration> interval = monitor.read("interval",
                (path, node) -> values.duration(path, node, DurationRule.POSITIVE), Monitor.DEFAULT_INTERVAL);
        Duration fast = duration(values, monitor, "fast_interval", Monitor.DEFAULT_FAST_INTERVAL);
        if (interval.isPresent() && fast.compareTo(interval.get()) > 0) {
            // fast_interval was read successfully here: its default (1ms) is never longer than a valid interval.
            Node fastNode = monitor.get("fast_interval").orElseThrow();
            values.problems().add(monitor.path("fast_interval"), fastNode, "must not be longer than monitor.interval ("
                    + DurationParser.format(interval.get()) + "), got " + Nodes.kind(fastNode));
        }
        Duration connect = duration(values, monitor, "connect_timeout", Monitor.DEFAULT_CONNECT_TIMEOUT);
        Duration query = duration(values, monitor, "query_timeout", Monitor.DEFAULT_QUERY_TIMEOUT);
        String user = monitor.get("user").flatMap(n -> values.string(monitor.path("user"), n, false)).orElse(null);
        String password = monitor.get("password").flatMap(n -> values.string(monitor.path("password"), n, true))
                .orElse(null);
        if (user == null && !auth.users().isEmpty()) {
            user = auth.users().get(0).name();
            if (password == null) {
                password = auth.users().get(0).password();
            }
        }
        String database = monitor.get("database").flatMap(n -> values.string(monitor.path("database"), n, false))
                .orElse(Monitor.DEFAULT_DATABASE);
        return new Monitor(interval.orElse(Monitor.DEFAULT_INTERVAL), fast, connect, query, user, password, database);
    }

    private static Duration duration(ValueReader values, MappingReader monitor, String key, Duration fallback) {
        return monitor.get(key).flatMap(n -> values.duration(monitor.path(key), n, DurationRule.POSITIVE))
                .orElse(fallback);
    }
}

// purpose: reads and validates the "monitor" section; the login defaults to the first configured user
package io.pgbalancer.config;

import io.pgbalancer.config.ValueReader.DurationRule;
import java.time.Duration;
import java.util.List;

final class MonitorReader {
    static final List<String> KEYS = List.of("interval", "fast_interval", "connect_timeout", "query_timeout", "user",
            "password", "database");

    private MonitorReader() {
    }

    static Monitor read(ValueReader values, MappingReader monitor, Auth auth) {
        Duration interval = duration(values, monitor, "interval", Monitor.DEFAULT_INTERVAL);
        Duration fast = duration(values, monitor, "fast_interval", Monitor.DEFAULT_FAST_INTERVAL);
        if (fast.compareTo(interval) > 0 && monitor.get("fast_interval").isPresent()) {
            values.problems().add(monitor.path("fast_interval"), monitor.get("fast_interval").orElseThrow(),
                    "must not be longer than monitor.interval (" + interval.toMillis() + "ms)");
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
        return new Monitor(interval, fast, connect, query, user, password, database);
    }

    private static Duration duration(ValueReader values, MappingReader monitor, String key, Duration fallback) {
        return monitor.get(key).flatMap(n -> values.duration(monitor.path(key), n, DurationRule.POSITIVE))
                .orElse(fallback);
    }
}

// purpose: reads and validates the "routing" section and checks it against the backends
package io.pgbalancer.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

final class RoutingReader {
    static final List<String> KEYS = List.of("balance", "primary_reads", "write_functions", "volatile_functions",
            "consistency", "causal_wait", "max_lag", "primary_wait");
    static final List<String> MAX_LAG_KEYS = List.of("bytes", "time");
    /** A causal wait longer than this would hold a client longer than running the read on the primary ever could. */
    static final java.time.Duration MAX_CAUSAL_WAIT = java.time.Duration.ofSeconds(60);
    /** The largest routing.max_lag.bytes, inclusive: 2GB (as everywhere in the file, GB = 1024^3 bytes). */
    static final long MAX_LAG_BYTES = 2L * 1024 * 1024 * 1024;
    /** Longer than this, a write waiting out a failover is better failed: clients and their timeouts give up first. */
    static final java.time.Duration MAX_PRIMARY_WAIT = java.time.Duration.ofMinutes(5);
    static final String FUNCTION_NAME = "a non-empty function name";

    private RoutingReader() {
    }

    static Routing read(ValueReader values, MappingReader routing) {
        Balance balance = routing.get("balance")
                .flatMap(n -> values.choice(routing.path("balance"), n, Balance.class, Balance::yamlName))
                .orElse(Routing.DEFAULT_BALANCE);
        PrimaryReads primaryReads = routing.get("primary_reads")
                .flatMap(n -> values.choice(routing.path("primary_reads"), n, PrimaryReads.class,
                        PrimaryReads::yamlName))
                .orElse(Routing.DEFAULT_PRIMARY_READS);
        List<String> writeFunctions = readWriteFunctions(values, routing);
        VolatileFunctions volatileFunctions = routing.get("volatile_functions")
                .flatMap(n -> values.choice(routing.path("volatile_functions"), n, VolatileFunctions.class,
                        VolatileFunctions::yamlName))
                .orElse(Routing.DEFAULT_VOLATILE_FUNCTIONS);
        Consistency consistency = routing.get("consistency")
                .flatMap(n -> values.choice(routing.path("consistency"), n, Consistency.class, Consistency::yamlName))
                .orElse(Routing.DEFAULT_CONSISTENCY);
        java.time.Duration causalWait = routing.get("causal_wait")
                .flatMap(n -> values.duration(routing.path("causal_wait"), n, ValueReader.DurationRule.ZERO_ALLOWED,
                        MAX_CAUSAL_WAIT, "60s"))
                .orElse(Routing.DEFAULT_CAUSAL_WAIT);
        MaxLag maxLag = readMaxLag(values, routing);
        java.time.Duration primaryWait = routing.get("primary_wait")
                .flatMap(n -> values.duration(routing.path("primary_wait"), n, ValueReader.DurationRule.ZERO_ALLOWED,
                        MAX_PRIMARY_WAIT, "5m"))
                .orElse(Routing.DEFAULT_PRIMARY_WAIT);
        return new Routing(balance, primaryReads, writeFunctions, volatileFunctions, consistency, causalWait, maxLag,
                primaryWait);
    }

    private static MaxLag readMaxLag(ValueReader values, MappingReader routing) {
        if (routing.get("max_lag").isEmpty() || Nodes.isNull(routing.get("max_lag").get())) {
            return MaxLag.NONE;
        }
        String path = routing.path("max_lag");
        return values.mapping(path, routing.get("max_lag").get(), MAX_LAG_KEYS).map(m -> {
            Long bytes = m.get("bytes")
                    .flatMap(n -> values.byteCount(m.path("bytes"), n, 1, MAX_LAG_BYTES, "1B and 2GB"))
                    .orElse(null);
            java.time.Duration time = m.get("time")
                    .flatMap(n -> values.duration(m.path("time"), n, ValueReader.DurationRule.POSITIVE))
                    .orElse(null);
            return new MaxLag(bytes, time);
        }).orElse(MaxLag.NONE);
    }

    /** Names as written; duplicates are compared ignoring case (PostgreSQL folds unquoted names). */
    private static List<String> readWriteFunctions(ValueReader values, MappingReader routing) {
        String path = routing.path("write_functions");
        Optional<List<Node>> items = routing.get("write_functions")
                .flatMap(n -> values.list(path, n, "function names"));
        List<String> names = new ArrayList<>();
        Map<String, String> firstPathByName = new HashMap<>();
        for (int i = 0; i < items.orElse(List.of()).size(); i++) {
            String itemPath = path + "[" + i + "]";
            Node item = items.get().get(i);
            Optional<String> name = values.text(itemPath, item, FUNCTION_NAME).flatMap(t -> {
                if (t.value().isEmpty()) {
                    values.problems().add(itemPath, item, "expected " + FUNCTION_NAME + ", got " + t.describe(false));
                    return Optional.empty();
                }
                return Optional.of(t.value());
            });
            name.ifPresent(n -> {
                String first = firstPathByName.putIfAbsent(n.toLowerCase(Locale.ROOT), itemPath);
                if (first != null) {
                    values.problems().add(itemPath, item, "duplicate function " + Nodes.quote(n) + " (same as "
                            + first + ")");
                } else {
                    names.add(n);
                }
            });
        }
        return names;
    }

    /**
     * Cross-section rules. Call only when {@code backends} is the complete list (no backend problems), so a
     * backend that failed to load is not mistaken for a missing replica. {@code withDiscovery}: the file has a
     * discovery section, which may supply replicas (as may a backend with role auto), so none is required then.
     */
    static void checkBackends(ValueReader values, MappingReader routing, Routing settings, List<Backend> backends,
                              boolean withDiscovery) {
        boolean anyReplica = backends.stream().anyMatch(b -> b.role() == Role.REPLICA || b.role() == Role.AUTO);
        if (settings.primaryReads() == PrimaryReads.NEVER && !anyReplica && !withDiscovery && !backends.isEmpty()) {
            values.problems().add(routing.path("primary_reads"), routing.get("primary_reads").orElseThrow(),
                    "never needs at least one replica in backends");
        }
    }
}

// purpose: test helper: the ConfigMap's pgbalancer.yaml through ConfigLoader, with a fallback until discovery is read
package io.pgbalancer.k8s;

import io.pgbalancer.config.ConfigException;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.config.KubernetesRoles;
import io.pgbalancer.config.PgBalancerConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code variables}: every {@code ${NAME}} the file uses (each gets a dummy value). {@code strict}: ConfigLoader read
 * the file as it is. Otherwise the loader does not know {@code discovery} yet (the config module has the records;
 * its reader is separate work): then the file minus {@code discovery} (plus a placeholder backend, required without
 * discovery) still goes through the loader, and {@code discovery.kubernetes} is read here with the documented keys.
 */
record ConfigMapConfig(PgBalancerConfig config, KubernetesDiscovery discovery, Set<String> variables, boolean strict,
                       String note) {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?}");
    private static final Set<String> KUBERNETES_KEYS = Set.of("namespace", "port", "roles", "service",
            "primary_service", "replica_service", "label", "weight", "max_connections", "peers", "stale_after");

    static ConfigMapConfig read(String yaml) {
        Set<String> variables = new TreeSet<>();
        Matcher m = VARIABLE.matcher(yaml);
        while (m.find()) {
            variables.add(m.group(1));
        }
        Map<String, String> env = new LinkedHashMap<>();
        variables.forEach(v -> env.put(v, "dummy-" + v.toLowerCase(Locale.ROOT)));
        try {
            PgBalancerConfig config = ConfigLoader.parse(yaml, env, "configmap");
            if (config.discovery().kubernetes() == null) {
                throw new AssertionError("the ConfigMap configures no discovery.kubernetes");
            }
            return new ConfigMapConfig(config, config.discovery().kubernetes(), variables, true, "");
        } catch (ConfigException e) {
            boolean readerMissing = e.problems().stream()
                    .anyMatch(p -> p.path().equals("discovery") && p.message().startsWith("unknown key"));
            if (!readerMissing) {
                throw new AssertionError(e.report(), e);
            }
            return fallback(yaml, env, variables, e.report());
        }
    }

    @SuppressWarnings("unchecked")
    private static ConfigMapConfig fallback(String yaml, Map<String, String> env, Set<String> variables,
                                            String note) {
        Map<String, Object> root = new Yaml().load(yaml);
        Map<String, Object> discovery = (Map<String, Object>) root.remove("discovery");
        root.putIfAbsent("backends", List.of(Map.of("host", "127.0.0.1", "port", 5432, "role", "primary")));
        PgBalancerConfig config;
        try {
            config = ConfigLoader.parse(new Yaml().dump(root), env, "configmap (without discovery)");
        } catch (ConfigException e) {
            throw new AssertionError(e.report(), e);
        }
        Map<String, Object> k = (Map<String, Object>) discovery.get("kubernetes");
        if (!KUBERNETES_KEYS.containsAll(k.keySet())) {
            throw new AssertionError("undocumented keys in discovery.kubernetes: " + k.keySet());
        }
        Map<String, Object> label = (Map<String, Object>) k.get("label");
        KubernetesRoles roles = KubernetesRoles.valueOf(text(k.get("roles")).toUpperCase(Locale.ROOT));
        KubernetesDiscovery settings = new KubernetesDiscovery(text(k.get("namespace")), text(k.get("port")), roles,
                text(k.get("service")), text(k.get("primary_service")), text(k.get("replica_service")),
                label == null ? null : new KubernetesDiscovery.RoleLabel(text(label.get("key")),
                        text(label.get("primary")), text(label.get("replica"))),
                k.get("weight") == null ? 1 : (Integer) k.get("weight"), (Integer) k.get("max_connections"),
                text(k.get("peers")), k.get("stale_after") == null ? KubernetesDiscovery.DEFAULT_STALE_AFTER
                        : duration(text(k.get("stale_after"))));
        return new ConfigMapConfig(config, settings, variables, false, note);
    }

    private static String text(Object o) {
        return o == null ? null : o.toString();
    }

    private static Duration duration(String s) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(s);
        if (!m.matches()) {
            throw new AssertionError("stale_after: not a duration: " + s);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}

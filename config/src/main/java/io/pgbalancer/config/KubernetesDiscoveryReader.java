// purpose: reads and validates "discovery.kubernetes": names, port, the keys each roles mode needs, the budget
package io.pgbalancer.config;

import io.pgbalancer.config.ValueReader.DurationRule;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.nodes.Node;

final class KubernetesDiscoveryReader {
    static final List<String> KEYS = List.of("namespace", "port", "roles", "service", "primary_service",
            "replica_service", "label", "weight", "max_connections", "peers", "stale_after");
    static final List<String> LABEL_KEYS = List.of("key", "primary", "replica");
    /** What Kubernetes accepts as a namespace, Service or EndpointSlice port name. */
    static final String DNS_LABEL = "a DNS-1123 label (lowercase letters, digits and '-', starting and ending with"
            + " a letter or digit, at most 63 characters)";
    static final String PORT = "an integer between 1 and 65535 or a port name, " + DNS_LABEL;
    static final String LABEL_KEY = "a label key such as role or cnpg.io/instanceRole (non-empty, no spaces)";

    /** The roles modes that read one Service (service), and the one that reads two (primary_ and replica_service). */
    private static final Set<KubernetesRoles> ONE_SERVICE = EnumSet.of(KubernetesRoles.LABEL, KubernetesRoles.AUTO);
    private static final Set<KubernetesRoles> TWO_SERVICES = EnumSet.of(KubernetesRoles.SERVICES);
    private static final Set<KubernetesRoles> LABEL_ONLY = EnumSet.of(KubernetesRoles.LABEL);
    private static final Pattern DNS_LABEL_FORMAT = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    private static final Pattern WHITESPACE = Pattern.compile(".*\\s.*", Pattern.DOTALL);

    private KubernetesDiscoveryReader() {
    }

    static KubernetesDiscovery read(ValueReader values, MappingReader k8s) {
        String namespace = k8s.get("namespace").flatMap(n -> name(values, k8s.path("namespace"), n)).orElse(null);
        String port = k8s.get("port").filter(n -> !Nodes.isNull(n)).flatMap(n -> port(values, k8s.path("port"), n))
                .orElse(null);
        // Empty when roles is written but invalid (already reported): which keys it needs is then not checked.
        Optional<KubernetesRoles> roles = k8s.read("roles",
                (path, n) -> values.choice(path, n, KubernetesRoles.class, KubernetesRoles::yamlName),
                KubernetesRoles.AUTO);
        String service = serviceName(values, k8s, "service", roles, ONE_SERVICE);
        String primaryService = serviceName(values, k8s, "primary_service", roles, TWO_SERVICES);
        String replicaService = serviceName(values, k8s, "replica_service", roles, TWO_SERVICES);
        KubernetesDiscovery.RoleLabel label = usedBy(values, k8s, "label", roles, LABEL_ONLY)
                .flatMap(n -> values.mapping(k8s.path("label"), n, LABEL_KEYS))
                .flatMap(m -> roleLabel(values, m))
                .orElse(null);
        int weight = k8s.get("weight").flatMap(n -> values.positiveInteger(k8s.path("weight"), n))
                .orElse(Backend.DEFAULT_WEIGHT);
        Optional<Node> maxConnectionsNode = k8s.get("max_connections").filter(n -> !Nodes.isNull(n));
        Integer maxConnections = maxConnectionsNode
                .flatMap(n -> values.positiveInteger(k8s.path("max_connections"), n))
                .orElse(null);
        String peers = readPeers(values, k8s, maxConnectionsNode.isPresent());
        Duration staleAfter = k8s.get("stale_after")
                .flatMap(n -> values.duration(k8s.path("stale_after"), n, DurationRule.POSITIVE))
                .orElse(KubernetesDiscovery.DEFAULT_STALE_AFTER);
        return new KubernetesDiscovery(namespace, port, roles.orElse(KubernetesRoles.AUTO), service, primaryService,
                replicaService, label, weight, maxConnections, peers, staleAfter);
    }

    /** A Service name that only the roles modes in {@code modes} use: required there, a problem anywhere else. */
    private static String serviceName(ValueReader values, MappingReader k8s, String key,
                                      Optional<KubernetesRoles> roles, Set<KubernetesRoles> modes) {
        return usedBy(values, k8s, key, roles, modes).flatMap(n -> name(values, k8s.path(key), n)).orElse(null);
    }

    /**
     * The value of {@code key} when {@code roles} is one of {@code modes} (a missing key is then a problem);
     * when roles is another mode, the key being present is the problem. When roles is invalid, only the value.
     */
    private static Optional<Node> usedBy(ValueReader values, MappingReader k8s, String key,
                                         Optional<KubernetesRoles> roles, Set<KubernetesRoles> modes) {
        Optional<Node> node = k8s.get(key);
        if (roles.isEmpty()) {
            return node;
        }
        String mode = roles.get().yamlName();
        if (!modes.contains(roles.get())) {
            node.ifPresent(n -> values.problems().add(k8s.path(key), n, "only used when roles is "
                    + modes.stream().map(KubernetesRoles::yamlName).collect(Collectors.joining(" or "))
                    + ", but roles is " + mode));
            return Optional.empty();
        }
        if (node.isEmpty()) {
            String defaulted = k8s.get("roles").isPresent() ? "" : " (the default)";
            values.problems().add(k8s.path(key), k8s.node(), "required when roles is " + mode + defaulted);
        }
        return node;
    }

    /** All three keys are required: the label's key and its value on the primary and on the replicas. */
    private static Optional<KubernetesDiscovery.RoleLabel> roleLabel(ValueReader values, MappingReader label) {
        Optional<String> key = label.required("key").flatMap(n -> labelKey(values, label.path("key"), n));
        Optional<String> primary = label.required("primary")
                .flatMap(n -> values.string(label.path("primary"), n, false));
        Optional<String> replica = label.required("replica")
                .flatMap(n -> values.string(label.path("replica"), n, false));
        if (key.isEmpty() || primary.isEmpty() || replica.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new KubernetesDiscovery.RoleLabel(key.get(), primary.get(), replica.get()));
    }

    /** Only with max_connections: the peers share each server's budget; without one there is nothing to share. */
    private static String readPeers(ValueReader values, MappingReader k8s, boolean withMaxConnections) {
        Optional<Node> node = k8s.get("peers");
        if (node.isPresent() && !withMaxConnections) {
            values.problems().add(k8s.path("peers"), node.get(),
                    "only used with max_connections (the budget the peers share), but max_connections is not set");
            return null;
        }
        return node.flatMap(n -> name(values, k8s.path("peers"), n)).orElse(null);
    }

    /** A namespace or Service name. */
    private static Optional<String> name(ValueReader values, String path, Node node) {
        return values.text(path, node, DNS_LABEL).flatMap(t -> {
            if (!DNS_LABEL_FORMAT.matcher(t.value()).matches()) {
                values.problems().add(path, node, "expected " + DNS_LABEL + ", got " + t.describe(false));
                return Optional.empty();
            }
            return Optional.of(t.value());
        });
    }

    /** A port number (kept as its decimal text) or an EndpointSlice port name. */
    private static Optional<String> port(ValueReader values, String path, Node node) {
        return values.text(path, node, PORT).flatMap(t -> {
            String text = t.value();
            if (DIGITS.matcher(text).matches()) {
                // At most 5 significant digits, so the number fits an int.
                String digits = text.replaceFirst("^0+(?=.)", "");
                int number = digits.length() <= 5 ? Integer.parseInt(digits) : 0;
                if (number >= 1 && number <= 65535) {
                    return Optional.of(Integer.toString(number));
                }
            } else if (DNS_LABEL_FORMAT.matcher(text).matches()) {
                return Optional.of(text);
            }
            values.problems().add(path, node, "expected " + PORT + ", got " + t.describe(true));
            return Optional.empty();
        });
    }

    /** Loosely: Kubernetes itself checks the prefix and name parts; this catches the empty and the garbled. */
    private static Optional<String> labelKey(ValueReader values, String path, Node node) {
        return values.text(path, node, LABEL_KEY).flatMap(t -> {
            if (t.value().isEmpty() || WHITESPACE.matcher(t.value()).matches()) {
                values.problems().add(path, node, "expected " + LABEL_KEY + ", got " + t.describe(false));
                return Optional.empty();
            }
            return Optional.of(t.value());
        });
    }
}

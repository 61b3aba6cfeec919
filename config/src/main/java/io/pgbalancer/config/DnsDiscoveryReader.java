// purpose: reads and validates the "discovery.dns" list: each name's port, role, interval, weight, cap; duplicates
package io.pgbalancer.config;

import io.pgbalancer.config.ValueReader.DurationRule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

final class DnsDiscoveryReader {
    static final List<String> KEYS = List.of("name", "port", "role", "interval", "weight", "max_connections");

    private DnsDiscoveryReader() {
    }

    /** {@code node} is the list (absent when the key is absent or null: no DNS discovery). */
    static List<DnsDiscovery> read(ValueReader values, String path, Optional<Node> node) {
        List<Node> items = node.flatMap(n -> values.list(path, n, "DNS names")).orElse(List.of());
        List<DnsDiscovery> entries = new ArrayList<>();
        Map<String, String> firstPathByAddress = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            Node item = items.get(i);
            values.mapping(itemPath, item, KEYS)
                    .flatMap(entry -> readEntry(values, itemPath, item, entry, firstPathByAddress))
                    .ifPresent(entries::add);
        }
        return entries;
    }

    /** Empty when any value is unusable or the entry repeats an earlier one (the problem has been recorded). */
    private static Optional<DnsDiscovery> readEntry(ValueReader values, String itemPath, Node item,
                                                    MappingReader entry, Map<String, String> firstPathByAddress) {
        Optional<String> name = entry.required("name").flatMap(n -> values.host(entry.path("name"), n));
        Optional<Integer> port = entry.read("port", values::port, Backend.DEFAULT_PORT);
        boolean duplicate = false;
        if (name.isPresent() && port.isPresent()) {
            String address = Addresses.format(name.get(), port.get());
            String first = firstPathByAddress.putIfAbsent(address.toLowerCase(Locale.ROOT), itemPath);
            if (first != null) {
                values.problems().add(itemPath, item, "duplicate DNS name " + address + " (same as " + first + ")");
                duplicate = true;
            }
        }
        Optional<Role> role = entry.read("role",
                (path, n) -> values.choice(path, n, Role.class, Role::yamlName), DnsDiscovery.DEFAULT_ROLE);
        Optional<Duration> interval = entry.read("interval",
                (path, n) -> values.duration(path, n, DurationRule.POSITIVE), DnsDiscovery.DEFAULT_INTERVAL);
        Optional<Integer> weight = entry.read("weight", values::positiveInteger, Backend.DEFAULT_WEIGHT);
        Optional<Node> maxConnectionsNode = entry.get("max_connections").filter(n -> !Nodes.isNull(n));
        Optional<Integer> maxConnections = maxConnectionsNode
                .flatMap(n -> values.positiveInteger(entry.path("max_connections"), n));
        if (duplicate || name.isEmpty() || port.isEmpty() || role.isEmpty() || interval.isEmpty() || weight.isEmpty()
                || maxConnections.isEmpty() && maxConnectionsNode.isPresent()) {
            return Optional.empty();
        }
        return Optional.of(new DnsDiscovery(name.get(), port.get(), role.get(), interval.get(), weight.get(),
                maxConnections.orElse(null)));
    }
}

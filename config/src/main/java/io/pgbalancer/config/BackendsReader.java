// purpose: reads and validates the "backends" list: each entry, duplicate addresses, exactly one primary
package io.pgbalancer.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

final class BackendsReader {
    static final String PATH = "backends";
    static final List<String> KEYS = List.of("host", "port", "role", "weight", "max_connections");

    private final ValueReader values;
    private final List<Backend> backends = new ArrayList<>();
    /** Backends declared primary: the entry's path and its role node (for the problem's position). */
    private final List<Map.Entry<String, Node>> primaries = new ArrayList<>();
    private final Map<String, String> firstPathByAddress = new HashMap<>();
    private boolean everyRoleKnown = true;

    private BackendsReader(ValueReader values) {
        this.values = values;
    }

    static List<Backend> read(ValueReader values, MappingReader root) {
        Optional<Node> node = root.required(PATH);
        Optional<List<Node>> items = node.flatMap(n -> values.list(PATH, n, "backends"));
        if (items.isEmpty()) {
            return List.of();
        }
        if (items.get().isEmpty()) {
            values.problems().add(PATH, node.get(), "expected at least one backend");
            return List.of();
        }
        BackendsReader reader = new BackendsReader(values);
        for (int i = 0; i < items.get().size(); i++) {
            reader.readEntry(PATH + "[" + i + "]", items.get().get(i));
        }
        reader.checkPrimaryCount(node.get());
        return reader.backends;
    }

    private void readEntry(String path, Node node) {
        Optional<MappingReader> entry = values.mapping(path, node, KEYS);
        if (entry.isEmpty()) {
            everyRoleKnown = false;
            return;
        }
        MappingReader b = entry.get();
        Optional<String> host = b.required("host").flatMap(n -> values.host(b.path("host"), n));
        Optional<Integer> port = b.read("port", values::port, Backend.DEFAULT_PORT);
        Optional<Role> role = b.required("role")
                .flatMap(n -> values.choice(b.path("role"), n, Role.class, Role::yamlName));
        Optional<Integer> weight = b.read("weight", values::positiveInteger, Backend.DEFAULT_WEIGHT);
        Optional<Integer> maxConnections = b.get("max_connections")
                .filter(n -> !Nodes.isNull(n))
                .flatMap(n -> values.positiveInteger(b.path("max_connections"), n));

        role.filter(r -> r == Role.PRIMARY).ifPresent(r -> primaries.add(Map.entry(path, b.get("role").orElseThrow())));
        everyRoleKnown &= role.isPresent();
        if (host.isPresent() && port.isPresent()) {
            String address = Addresses.format(host.get(), port.get());
            String first = firstPathByAddress.putIfAbsent(address.toLowerCase(Locale.ROOT), path);
            if (first != null) {
                values.problems().add(path, node, "duplicate backend " + address + " (same as " + first + ")");
            }
        }
        if (host.isPresent() && port.isPresent() && role.isPresent() && weight.isPresent()) {
            backends.add(new Backend(host.get(), port.get(), role.get(), weight.get(), maxConnections.orElse(null)));
        }
    }

    private void checkPrimaryCount(Node listNode) {
        if (primaries.isEmpty() && everyRoleKnown) {
            values.problems().add(PATH, listNode, "exactly one backend must have role primary, found none");
        }
        for (Map.Entry<String, Node> extra : primaries.subList(Math.min(1, primaries.size()), primaries.size())) {
            values.problems().add(extra.getKey() + ".role", extra.getValue(),
                    "exactly one backend must have role primary, but " + primaries.get(0).getKey() + " is primary too");
        }
    }
}

// purpose: reads and validates the "backends" list: each entry, duplicate addresses, who can be the primary
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
    private boolean anyAuto;

    private BackendsReader(ValueReader values) {
        this.values = values;
    }

    /**
     * {@code withDiscovery}: the file has a discovery section, so the list may be missing, null or empty, and
     * need not hold a backend that can be the primary (discovery may find it).
     */
    static List<Backend> read(ValueReader values, MappingReader root, boolean withDiscovery) {
        Optional<Node> node = withDiscovery
                ? root.get(PATH).filter(n -> !Nodes.isNull(n))
                : root.required(PATH);
        Optional<List<Node>> items = node.flatMap(n -> values.list(PATH, n, "backends"));
        if (items.isEmpty()) {
            return List.of();
        }
        if (items.get().isEmpty()) {
            if (!withDiscovery) {
                values.problems().add(PATH, node.get(), "expected at least one backend");
            }
            return List.of();
        }
        BackendsReader reader = new BackendsReader(values);
        for (int i = 0; i < items.get().size(); i++) {
            reader.readEntry(PATH + "[" + i + "]", items.get().get(i));
        }
        reader.checkPrimaries(node.get(), withDiscovery);
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
        anyAuto |= role.filter(r -> r == Role.AUTO).isPresent();
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

    /** At most one primary; without discovery, at least one backend that can be it (role primary or auto). */
    private void checkPrimaries(Node listNode, boolean withDiscovery) {
        if (primaries.isEmpty() && !anyAuto && everyRoleKnown && !withDiscovery) {
            values.problems().add(PATH, listNode,
                    "no backend can be the primary: give one role primary or auto, or configure discovery");
        }
        for (Map.Entry<String, Node> extra : primaries.subList(Math.min(1, primaries.size()), primaries.size())) {
            values.problems().add(extra.getKey() + ".role", extra.getValue(),
                    "at most one backend may have role primary, but " + primaries.get(0).getKey() + " is primary too");
        }
    }
}

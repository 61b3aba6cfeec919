// purpose: one YAML mapping with a fixed set of allowed keys; reports unknown, duplicate and missing keys
package io.pgbalancer.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

final class MappingReader {
    private final String path;
    private final Node locatedAt;
    private final Problems problems;
    private final Map<String, Node> values = new LinkedHashMap<>();

    private MappingReader(String path, Node locatedAt, Problems problems) {
        this.path = path;
        this.locatedAt = locatedAt;
        this.problems = problems;
    }

    /** Reads the keys of {@code node}, reporting keys that are not in {@code allowedKeys} or appear twice. */
    static MappingReader of(String path, MappingNode node, List<String> allowedKeys, Problems problems) {
        MappingReader reader = new MappingReader(path, node, problems);
        for (NodeTuple tuple : node.getValue()) {
            reader.add(tuple, allowedKeys);
        }
        return reader;
    }

    /** A section that is absent (or null) in the file: every key is missing; {@code locatedAt} may be null. */
    static MappingReader empty(String path, Node locatedAt, Problems problems) {
        return new MappingReader(path, locatedAt, problems);
    }

    private void add(NodeTuple tuple, List<String> allowedKeys) {
        if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
            problems.add(path.isEmpty() ? "(root)" : path, tuple.getKeyNode(),
                    "mapping keys must be plain strings, got " + Nodes.kind(tuple.getKeyNode()));
            return;
        }
        String key = keyNode.getValue();
        Node previous = values.get(key);
        if (previous != null) {
            problems.add(path(key), keyNode,
                    "duplicate key (first defined at line " + (previous.getStartMark().getLine() + 1) + ")");
        } else if (!allowedKeys.contains(key)) {
            problems.add(path(key), keyNode,
                    "unknown key (expected one of: " + String.join(", ", allowedKeys) + ")");
        } else {
            values.put(key, tuple.getValueNode());
        }
    }

    /** The path of a child key, e.g. {@code pool} + {@code size} = {@code pool.size}. */
    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The value of {@code key}, if the key is present (its value may be a YAML null). */
    Optional<Node> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** Like {@link #get}, but a missing key is reported as a problem. */
    Optional<Node> required(String key) {
        Node node = values.get(key);
        if (node == null) {
            problems.add(path(key), locatedAt, "required key is missing");
        }
        return Optional.ofNullable(node);
    }

    /**
     * The value of an optional key read with {@code reader} (which receives the key's path and node), or
     * {@code defaultValue} if the key is absent. Empty only when the value is present but invalid (the
     * problem has been recorded), so callers can tell "defaulted" from "broken".
     */
    <T> Optional<T> read(String key, BiFunction<String, Node, Optional<T>> reader, T defaultValue) {
        Node node = values.get(key);
        return node == null ? Optional.of(defaultValue) : reader.apply(path(key), node);
    }

    /** Where problems about this mapping as a whole are reported (null if unknown). */
    Node node() {
        return locatedAt;
    }
}

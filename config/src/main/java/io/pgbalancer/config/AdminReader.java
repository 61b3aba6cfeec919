// purpose: reads and validates the "admin" section; every admin user must be one of auth.users
package io.pgbalancer.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.nodes.Node;

final class AdminReader {
    static final List<String> KEYS = List.of("users");

    private AdminReader() {
    }

    static Admin read(ValueReader values, MappingReader admin, Auth auth) {
        String path = admin.path("users");
        Optional<List<Node>> items = admin.get("users").filter(n -> !Nodes.isNull(n))
                .flatMap(n -> values.list(path, n, "user names"));
        Set<String> known = auth.users().stream().map(User::name).collect(Collectors.toSet());
        List<String> names = new ArrayList<>();
        Map<String, String> firstPathByName = new HashMap<>();
        List<Node> nodes = items.orElse(List.of());
        for (int i = 0; i < nodes.size(); i++) {
            String itemPath = path + "[" + i + "]";
            Node item = nodes.get(i);
            values.string(itemPath, item, false).ifPresent(name -> {
                String first = firstPathByName.putIfAbsent(name, itemPath);
                if (first != null) {
                    values.problems().add(itemPath, item, "duplicate user " + Nodes.quote(name) + " (same as "
                            + first + ")");
                } else if (!known.contains(name)) {
                    values.problems().add(itemPath, item, "unknown user " + Nodes.quote(name)
                            + ": admin users must be listed in auth.users");
                } else {
                    names.add(name);
                }
            });
        }
        return new Admin(names);
    }
}

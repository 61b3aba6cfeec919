// purpose: reads and validates the "auth" section: method, users, password rules, duplicate user names
package io.pgbalancer.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

final class AuthReader {
    static final List<String> KEYS = List.of("method", "users");
    static final List<String> USER_KEYS = List.of("name", "password", "max_connections");

    private AuthReader() {
    }

    static Auth read(ValueReader values, MappingReader auth) {
        Optional<AuthMethod> method = auth.read("method",
                (path, node) -> values.choice(path, node, AuthMethod.class, AuthMethod::yamlName),
                Auth.DEFAULT_METHOD);
        List<User> users = readUsers(values, auth, method.orElse(null));
        return new Auth(method.orElse(Auth.DEFAULT_METHOD), users);
    }

    /** {@code method} is null when it was invalid; password requirements are then not checked. */
    private static List<User> readUsers(ValueReader values, MappingReader auth, AuthMethod method) {
        String usersPath = auth.path("users");
        Optional<Node> usersNode = auth.required("users");
        Optional<List<Node>> items = usersNode.flatMap(n -> values.list(usersPath, n, "users"));
        if (items.isPresent() && items.get().isEmpty()) {
            values.problems().add(usersPath, usersNode.get(), "expected at least one user");
        }
        Map<String, String> firstPathByName = new HashMap<>();
        List<User> users = new ArrayList<>();
        for (int i = 0; i < items.orElse(List.of()).size(); i++) {
            String itemPath = usersPath + "[" + i + "]";
            values.mapping(itemPath, items.get().get(i), USER_KEYS)
                    .flatMap(user -> readUser(values, user, method, firstPathByName, itemPath))
                    .ifPresent(users::add);
        }
        return users;
    }

    private static Optional<User> readUser(ValueReader values, MappingReader user, AuthMethod method,
                                           Map<String, String> firstPathByName, String itemPath) {
        Optional<String> name = user.required("name").flatMap(n -> values.string(user.path("name"), n, false));
        name.ifPresent(n -> {
            String first = firstPathByName.putIfAbsent(n, itemPath);
            if (first != null) {
                values.problems().add(user.path("name"), user.get("name").orElseThrow(),
                        "duplicate user " + Nodes.quote(n) + " (same as " + first + ")");
            }
        });
        Optional<Node> passwordNode = user.get("password").filter(n -> !Nodes.isNull(n));
        String password = null;
        if (passwordNode.isPresent()) {
            Optional<String> value = values.string(user.path("password"), passwordNode.get(),
                    method == AuthMethod.TRUST);
            if (value.isEmpty()) {
                return Optional.empty();
            }
            password = value.get();
        } else if (method != null && method != AuthMethod.TRUST) {
            values.problems().add(user.path("password"), user.node(),
                    "required when auth.method is " + method.yamlName());
        }
        String finalPassword = password;
        Integer maxConnections = user.get("max_connections").filter(n -> !Nodes.isNull(n))
                .flatMap(n -> values.positiveInteger(user.path("max_connections"), n)).orElse(null);
        return name.map(n -> new User(n, finalPassword, maxConnections));
    }
}

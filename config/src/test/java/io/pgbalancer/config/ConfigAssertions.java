// purpose: shared helpers for config tests: parse expecting success or expecting specific problems
package io.pgbalancer.config;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

final class ConfigAssertions {
    /** The smallest valid configuration; tests append or replace sections. */
    static final String AUTH = "auth: {users: [{name: app, password: secret}]}\n";
    static final String BACKENDS = "backends:\n  - {host: 127.0.0.1, port: 5432, role: primary}\n";
    static final String MINIMAL = AUTH + BACKENDS;

    private ConfigAssertions() {
    }

    static PgBalancerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Map.of(), "test.yaml");
    }

    static PgBalancerConfig parse(String yaml, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(yaml, env, "test.yaml");
    }

    /** Parses {@code yaml}, expecting failure, and returns the problems rendered as "path: message". */
    static List<String> problems(String yaml) {
        return problems(yaml, Map.of());
    }

    /**
     * Parses {@code yaml}, expecting failure, and returns the lines of {@link ConfigException#report()} without the
     * header and source name: {@code "5:16: routing.consistency: expected one of ..."} (line:column: problem).
     */
    static List<String> located(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, Map.of(), "t"));
        return e.report().lines().skip(1).map(line -> line.trim().substring("t:".length())).toList();
    }

    static List<String> problems(String yaml, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, env, "test.yaml"));
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }
}

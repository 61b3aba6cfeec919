// purpose: tests that each kind of invalid configuration is reported with its exact path and message
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.AUTH;
import static io.pgbalancer.config.ConfigAssertions.BACKENDS;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderErrorTest {
    @Test
    void unknownKeyNamesTheAllowedKeys() {
        assertEquals(List.of("pool.sise: unknown key (expected one of: mode, size, checkout_timeout, idle_timeout,"
                + " max_lifetime, connect_timeout, max_prepared_statements)"),
                problems(MINIMAL + "pool: {sise: 3}\n"));
        assertEquals(List.of("listenn: unknown key (expected one of: listen, pool, auth, backends, limits, shutdown,"
                + " routing, http, metrics, monitor, admin, discovery, tls, backend_tls)"),
                problems(MINIMAL + "listenn: {port: 1}\n"));
        // Problems come in document order; a missing key is reported at the start of its mapping.
        assertEquals(List.of("backends[0].host: required key is missing", "backends[0].hots: unknown key"
                + " (expected one of: host, port, role, weight, max_connections)"),
                problems(AUTH + "backends: [{hots: h, role: primary}]\n"));
    }

    @Test
    void metricsSectionIsChecked() {
        assertEquals(List.of("metrics.port: expected an integer between 1 and 65535, got 0"),
                problems(MINIMAL + "metrics: {port: 0}\n"));
        assertEquals(List.of("metrics.path: unknown key (expected one of: host, port)"),
                problems(MINIMAL + "metrics: {path: /x}\n"));
    }

    @Test
    void httpAndItsOldNameMetricsTogetherAreAProblem() {
        assertEquals(List.of("metrics: metrics and http are the same section (metrics is its old name): keep only http"),
                problems(MINIMAL + "http: {port: 9930}\nmetrics: {port: 9931}\n"));
        assertEquals(List.of("http.port: expected an integer between 1 and 65535, got 0"),
                problems(MINIMAL + "http: {port: 0}\n"));
    }

    @Test
    void ioThreadsMustBeBetweenZeroAndLimit() {
        assertEquals(List.of("listen.io_threads: expected an integer between 0 (auto) and 256, got 300"),
                problems(MINIMAL + "listen: {io_threads: 300}\n"));
        assertEquals(List.of("listen.io_threads: expected an integer between 0 (auto) and 256, got \"many\""),
                problems(MINIMAL + "listen: {io_threads: many}\n"));
    }

    @Test
    void wrongTypes() {
        assertEquals(List.of("pool.size: expected a positive integer, got \"twenty\""),
                problems(MINIMAL + "pool: {size: twenty}\n"));
        assertEquals(List.of("listen.port: expected an integer between 1 and 65535, got 70000"),
                problems(MINIMAL + "listen: {port: 70000}\n"));
        assertEquals(List.of("pool.mode: expected one of transaction, session, got \"statment\""),
                problems(MINIMAL + "pool: {mode: statment}\n"));
        assertEquals(List.of("auth.method: expected one of scram-sha-256, md5, trust, got \"SCRAM\""),
                problems(MINIMAL.replace("auth: {", "auth: {method: SCRAM, ")));
        assertEquals(List.of("backends[0].role: expected one of primary, replica, auto, got \"master\""),
                problems(AUTH + "backends: [{host: h, role: master}]\n"));
        assertEquals(List.of("listen: expected a mapping, got a list"), problems(MINIMAL + "listen: [a]\n"));
        assertEquals(List.of("listen.host: expected a host name or IP address, got a mapping"),
                problems(MINIMAL + "listen: {host: {a: b}}\n"));
        assertEquals(List.of("backends: expected a list of backends, got a mapping"),
                problems(AUTH + "backends: {host: h}\n"));
        assertEquals(List.of("auth.users[0]: expected a mapping, got \"app\""),
                problems(BACKENDS + "auth: {users: [app]}\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "pool: {size: 0}                        | pool.size: expected a positive integer, got 0",
        "pool: {size: -3}                       | pool.size: expected a positive integer, got -3",
        "pool: {size: 1.5}                      | pool.size: expected a positive integer, got 1.5",
        "pool: {size: 0x10}                     | pool.size: expected a positive integer, got 0x10",
        "pool: {size: 99999999999999999999999}  | pool.size: expected a positive integer, got 99999999999999999999999",
        "pool: {size: ~}                        | pool.size: expected a positive integer, got null",
        "listen: {port: 0}                      | listen.port: expected an integer between 1 and 65535, got 0",
        "listen: {port: true}                   | listen.port: expected an integer between 1 and 65535, got true",
        "listen: {host: ''}                     | listen.host: expected a host name or IP address, got \"\"",
        "listen: {host: 'a b'}                  | listen.host: expected a host name or IP address, got \"a b\"",
        "limits: {max_client_connections: 0}    | limits.max_client_connections: expected a positive integer, got 0",
        "pool: {max_prepared_statements: 0}     | pool.max_prepared_statements: expected a positive integer, got 0",
        "pool: {max_prepared_statements: -1}    | pool.max_prepared_statements: expected a positive integer, got -1",
        "pool: {max_prepared_statements: lots}  | pool.max_prepared_statements: expected a positive integer, got \"lots\"",
        "pool: {max_prepared_statements: 1e3}   | pool.max_prepared_statements: expected a positive integer, got 1e3",
        "pool: {max_prepared_statements: ~}     | pool.max_prepared_statements: expected a positive integer, got null",
        "listen: {port: !!binary aGk=}          | listen.port: unsupported YAML tag !!binary",
    })
    void badScalarValues(String section, String expected) {
        assertEquals(List.of(expected), problems(MINIMAL + section + "\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "checkout_timeout: 5     | pool.checkout_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"5\"",
        "checkout_timeout: '5'   | pool.checkout_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"5\"",
        "checkout_timeout: 5sec  | pool.checkout_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"5sec\"",
        "checkout_timeout: 1.5s  | pool.checkout_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"1.5s\"",
        "checkout_timeout: 5 s   | pool.checkout_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"5 s\"",
        "checkout_timeout: 0s    | pool.checkout_timeout: must be greater than 0, got \"0s\"",
        "connect_timeout: 0ms    | pool.connect_timeout: must be greater than 0, got \"0ms\"",
        "idle_timeout: -1s       | pool.idle_timeout: must not be negative, got \"-1s\"",
        "idle_timeout: 0         | pool.idle_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"0\"",
        "max_lifetime: 999999999999999999d | pool.max_lifetime: duration is too large, got \"999999999999999999d\"",
    })
    void badDurations(String entry, String expected) {
        assertEquals(List.of(expected), problems(MINIMAL + "pool:\n  " + entry + "\n"));
    }

    @Test
    void badGracePeriod() {
        assertEquals(List.of("shutdown.grace_period: must not be negative, got \"-5s\""),
                problems(MINIMAL + "shutdown: {grace_period: -5s}\n"));
        assertEquals(List.of("shutdown.grace_period: expected a duration such as 500ms, 5s, 10m or 1h, got \"30\""),
                problems(MINIMAL + "shutdown: {grace_period: 30}\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "big     | limits.max_message_size: expected a size such as 65536, 64kB, 256MB or 1GiB, got \"big\"",
        "256mb   | limits.max_message_size: expected a size such as 65536, 64kB, 256MB or 1GiB, got \"256mb\"",
        "1.5MB   | limits.max_message_size: expected a size such as 65536, 64kB, 256MB or 1GiB, got \"1.5MB\"",
        "-1MB    | limits.max_message_size: expected a size such as 65536, 64kB, 256MB or 1GiB, got \"-1MB\"",
        "2GiB    | limits.max_message_size: must be between 1kB and 1GiB, got \"2GiB\"",
        "1023    | limits.max_message_size: must be between 1kB and 1GiB, got \"1023\"",
        "9999999999TB | limits.max_message_size: must be between 1kB and 1GiB, got \"9999999999TB\"",
    })
    void badSizes(String value, String expected) {
        assertEquals(List.of(expected), problems(MINIMAL + "limits: {max_message_size: " + value + "}\n"));
    }

    @Test
    void missingEnvironmentVariableNamesVariableAndPath() {
        assertEquals(List.of("auth.users[0].password: environment variable APP_PASSWORD is not set"),
                problems(BACKENDS + "auth: {users: [{name: app, password: \"${APP_PASSWORD}\"}]}\n"));
    }

    @Test
    void duplicateUserNames() {
        assertEquals(List.of("auth.users[2].name: duplicate user \"app\" (same as auth.users[0])"),
                problems(BACKENDS + "auth: {users: [{name: app, password: a}, {name: b, password: b},"
                        + " {name: app, password: c}]}\n"));
    }

    @Test
    void duplicateBackendAddresses() {
        assertEquals(List.of("backends[1]: duplicate backend DB:5432 (same as backends[0])"),
                problems(AUTH + "backends: [{host: db, role: primary}, {host: DB, port: 5432, role: replica}]\n"));
        assertEquals(List.of("backends[2]: duplicate backend [::1]:5433 (same as backends[1])"),
                problems(AUTH + "backends: [{host: a, role: primary}, {host: '::1', port: 5433, role: replica},"
                        + " {host: '::1', port: 5433, role: replica}]\n"));
    }

    @Test
    void noBackendCanBeThePrimary() {
        assertEquals(List.of("backends: no backend can be the primary: give one role primary or auto, or configure"
                + " discovery"), problems(AUTH + "backends: [{host: a, role: replica}, {host: b, role: replica}]\n"));
    }

    @Test
    void twoPrimaries() {
        assertEquals(List.of(
                "backends[1].role: at most one backend may have role primary, but backends[0] is primary too",
                "backends[2].role: at most one backend may have role primary, but backends[0] is primary too"),
                problems(AUTH + "backends:\n  - {host: a, role: primary}\n  - {host: b, role: primary}\n"
                        + "  - {host: c, role: primary}\n"));
    }

    @Test
    void missingRoleIsAnErrorNotADefault() {
        // The only backend's role is unknown, so "no backend can be the primary" is not reported on top of it.
        assertEquals(List.of("backends[0].role: required key is missing"),
                problems(AUTH + "backends: [{host: a}]\n"));
        assertEquals(List.of("backends[0].role: expected one of primary, replica, auto, got \"primry\""),
                problems(AUTH + "backends: [{host: a, role: primry}]\n"));
    }

    @Test
    void requiredSections() {
        assertEquals(List.of("backends: required key is missing"), problems(AUTH));
        assertEquals(List.of("auth.users: required key is missing"), problems(BACKENDS));
        assertEquals(List.of("auth.users: required key is missing"), problems(BACKENDS + "auth: {method: md5}\n"));
        assertEquals(List.of("backends: expected at least one backend"), problems(AUTH + "backends: []\n"));
        assertEquals(List.of("auth.users: expected at least one user"), problems(BACKENDS + "auth: {users: []}\n"));
        assertEquals(List.of("auth.users: expected a list of users, got null"), problems(BACKENDS + "auth: {users: }\n"));
        assertEquals(List.of("auth.users[0].name: required key is missing"),
                problems(BACKENDS + "auth: {users: [{password: x}]}\n"));
        assertEquals(List.of("auth.users[0].name: expected a non-empty string, got \"\""),
                problems(BACKENDS + "auth: {users: [{name: '', password: x}]}\n"));
    }

    @Test
    void passwordRequiredUnlessTrust() {
        assertEquals(List.of("auth.users[0].password: required when auth.method is scram-sha-256"),
                problems(BACKENDS + "auth: {users: [{name: app}]}\n"));
        assertEquals(List.of("auth.users[0].password: required when auth.method is md5"),
                problems(BACKENDS + "auth: {method: md5, users: [{name: app, password: null}]}\n"));
        assertEquals(List.of("auth.users[0].password: expected a non-empty string, got \"\""),
                problems(BACKENDS + "auth: {users: [{name: app, password: ''}]}\n"));
    }

    @Test
    void duplicateYamlKey() {
        assertEquals(List.of("pool.size: duplicate key (first defined at line 5)"),
                problems(MINIMAL + "pool:\n  size: 1\n  size: 2\n"));
    }

    @Test
    void yamlSyntaxErrorIsOneProblemWithLineAndColumn() {
        assertEquals(List.of("(yaml): mapping values are not allowed here at line 3, column 8"),
                problems("pool:\n  size: 5\n   mode: x\n"));
        assertEquals(List.of("(yaml): found unexpected end of stream at line 2, column 1"
                + " (while scanning a quoted scalar at line 1, column 7)"), problems("auth: \"abc\n"));
    }

    @Test
    void emptyAndNonMappingDocuments() {
        String empty = "(root): configuration is empty (at least backends and auth.users are required)";
        assertEquals(List.of(empty), problems(""));
        assertEquals(List.of(empty), problems("# just a comment\n"));
        assertEquals(List.of("(root): expected a mapping at the top level, got a list"), problems("- a\n- b\n"));
        assertEquals(List.of("(root): expected a mapping at the top level, got \"hello\""), problems("hello\n"));
        assertEquals(List.of("(yaml): expected a single document in the stream, but found another document"
                + " at line 4, column 1"), problems(MINIMAL + "---\n" + MINIMAL));
    }

    @Test
    void severalProblemsAreAllReportedInDocumentOrder() {
        String yaml = """
                listen: {host: 0.0.0.0, port: 70000}
                pool:
                  sise: 10
                  mode: statment
                  checkout_timeout: 5
                auth:
                  users:
                    - {name: app, password: "${APP_PASSWORD}"}
                    - {name: app, password: x}
                backends:
                  - {host: a, role: replica}
                limits: {max_message_size: 2GiB}
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, Map.of(), "my.yaml"));
        List<String> expected = List.of(
                "listen.port: expected an integer between 1 and 65535, got 70000",
                "pool.sise: unknown key (expected one of: mode, size, checkout_timeout, idle_timeout, max_lifetime,"
                        + " connect_timeout, max_prepared_statements)",
                "pool.mode: expected one of transaction, session, got \"statment\"",
                "pool.checkout_timeout: expected a duration such as 500ms, 5s, 10m or 1h, got \"5\"",
                "auth.users[0].password: environment variable APP_PASSWORD is not set",
                "auth.users[1].name: duplicate user \"app\" (same as auth.users[0])",
                "backends: no backend can be the primary: give one role primary or auto, or configure discovery",
                "limits.max_message_size: must be between 1kB and 1GiB, got \"2GiB\"");
        assertEquals(expected, e.problems().stream().map(ConfigProblem::toString).toList());
        assertEquals(String.join("\n", expected), e.getMessage());
        assertEquals("my.yaml: 8 problems\n  my.yaml:1:31: " + expected.get(0) + "\n  my.yaml:3:3: " + expected.get(1),
                e.report().lines().limit(3).reduce((a, b) -> a + "\n" + b).orElseThrow());
    }

    @Test
    void callerConstructedExceptionHasNoPositions() {
        ConfigException e = new ConfigException(List.of(new ConfigProblem("backends[0]", "unreachable")));
        assertEquals("backends[0]: unreachable", e.getMessage());
        assertEquals("configuration: 1 problem\n  configuration: backends[0]: unreachable", e.report());
    }
}

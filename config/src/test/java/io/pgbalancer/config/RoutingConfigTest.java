// purpose: tests the "routing" section: defaults, every value, each problem with its exact path and message
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.AUTH;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.located;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RoutingConfigTest {
    /** A primary and one replica, so primary_reads: never is allowed. */
    private static final String WITH_REPLICA = AUTH + """
            backends:
              - {host: p, role: primary}
              - {host: r, role: replica}
            """;

    @Test
    void absentSectionMeansDefaults() throws ConfigException {
        Routing routing = parse(MINIMAL).routing();
        assertEquals(Routing.defaults(), routing);
        assertEquals(Balance.LEAST_OUTSTANDING, routing.balance());
        assertEquals(PrimaryReads.FALLBACK, routing.primaryReads());
        assertEquals(List.of(), routing.writeFunctions());
        assertEquals(VolatileFunctions.REPLICA, routing.volatileFunctions());
        assertEquals(Consistency.USER, routing.consistency());
        assertEquals(Duration.ofMillis(50), routing.causalWait());
        assertEquals(MaxLag.NONE, routing.maxLag());
        assertFalse(routing.maxLag().isBounded());
        assertEquals(Duration.ofSeconds(10), routing.primaryWait());
    }

    @Test
    void defaultsMatchTheConstants() {
        assertEquals(new Routing(Routing.DEFAULT_BALANCE, Routing.DEFAULT_PRIMARY_READS,
                Routing.DEFAULT_WRITE_FUNCTIONS, Routing.DEFAULT_VOLATILE_FUNCTIONS), Routing.defaults());
        assertEquals(Consistency.USER, Routing.DEFAULT_CONSISTENCY);
        assertEquals(Duration.ofMillis(50), Routing.DEFAULT_CAUSAL_WAIT);
        // The four-argument constructor fills in the causal-read defaults.
        assertEquals(new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of("f"), VolatileFunctions.PRIMARY,
                Consistency.USER, Duration.ofMillis(50), MaxLag.NONE),
                new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of("f"), VolatileFunctions.PRIMARY));
        assertNull(MaxLag.NONE.bytes());
        assertNull(MaxLag.NONE.time());
        assertEquals(Duration.ofSeconds(10), Routing.DEFAULT_PRIMARY_WAIT);
        // The seven-argument constructor fills in the default primary_wait.
        assertEquals(new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of("f"), VolatileFunctions.PRIMARY,
                Consistency.USER, Duration.ofMillis(50), MaxLag.NONE, Duration.ofSeconds(10)),
                new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of("f"), VolatileFunctions.PRIMARY,
                        Consistency.USER, Duration.ofMillis(50), MaxLag.NONE));
        assertThrows(NullPointerException.class, () -> new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of(),
                VolatileFunctions.REPLICA, Consistency.USER, Duration.ZERO, MaxLag.NONE, null));
    }

    @Test
    void causalReadSettingsAreRequired() {
        assertThrows(NullPointerException.class, () -> new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of(),
                VolatileFunctions.REPLICA, null, Duration.ZERO, MaxLag.NONE));
        assertThrows(NullPointerException.class, () -> new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of(),
                VolatileFunctions.REPLICA, Consistency.USER, null, MaxLag.NONE));
        assertThrows(NullPointerException.class, () -> new Routing(Balance.RANDOM, PrimaryReads.NEVER, List.of(),
                VolatileFunctions.REPLICA, Consistency.USER, Duration.ZERO, null));
    }

    @Test
    void emptyOrNullSectionMeansDefaults() throws ConfigException {
        assertEquals(Routing.defaults(), parse(MINIMAL + "routing:\n").routing());
        assertEquals(Routing.defaults(), parse(MINIMAL + "routing: {}\n").routing());
        assertEquals(Routing.defaults(), parse(MINIMAL + "routing: {write_functions: []}\n").routing());
    }

    @Test
    void everyKeySetExplicitly() throws ConfigException {
        PgBalancerConfig config = parse(WITH_REPLICA + """
                routing:
                  balance: random
                  primary_reads: never
                  write_functions: [nextval, setval, pg_advisory_lock, app.allocate_id, "${AUDIT_FN}"]
                  volatile_functions: primary
                  consistency: session
                  causal_wait: 2s
                  max_lag:
                    bytes: "${LAG_BYTES}"
                    time: 500ms
                  primary_wait: 30s
                """, Map.of("AUDIT_FN", "audit.log_event", "LAG_BYTES", "64kB"));
        assertEquals(new Routing(Balance.RANDOM, PrimaryReads.NEVER,
                List.of("nextval", "setval", "pg_advisory_lock", "app.allocate_id", "audit.log_event"),
                VolatileFunctions.PRIMARY, Consistency.SESSION, Duration.ofSeconds(2),
                new MaxLag(65536L, Duration.ofMillis(500)), Duration.ofSeconds(30)), config.routing());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 1 primary + 1 replica,"
                + " 1 user (scram-sha-256), routing random, consistency session", config.summary());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "least-outstanding | LEAST_OUTSTANDING",
        "round-robin       | ROUND_ROBIN",
        "random            | RANDOM",
    })
    void everyBalanceMode(String yaml, Balance expected) throws ConfigException {
        assertEquals(expected, parse(MINIMAL + "routing: {balance: " + yaml + "}\n").routing().balance());
        assertEquals(yaml, expected.yamlName());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "never    | NEVER",
        "fallback | FALLBACK",
        "always   | ALWAYS",
    })
    void everyPrimaryReadsMode(String yaml, PrimaryReads expected) throws ConfigException {
        assertEquals(expected, parse(WITH_REPLICA + "routing: {primary_reads: " + yaml + "}\n").routing()
                .primaryReads());
        assertEquals(yaml, expected.yamlName());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "replica | REPLICA",
        "primary | PRIMARY",
    })
    void everyVolatileFunctionsMode(String yaml, VolatileFunctions expected) throws ConfigException {
        assertEquals(expected, parse(MINIMAL + "routing: {volatile_functions: " + yaml + "}\n").routing()
                .volatileFunctions());
        assertEquals(yaml, expected.yamlName());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "session  | SESSION",
        "user     | USER",
        "global   | GLOBAL",
        "eventual | EVENTUAL",
    })
    void everyConsistency(String yaml, Consistency expected) throws ConfigException {
        PgBalancerConfig config = parse(MINIMAL + "routing: {consistency: " + yaml + "}\n");
        assertEquals(expected, config.routing().consistency());
        assertEquals(yaml, expected.yamlName());
        assertTrue(config.summary().endsWith(", routing least-outstanding, consistency " + yaml), config.summary());
    }

    @Test
    void summaryMentionsTheDefaultConsistency() throws ConfigException {
        assertTrue(parse(MINIMAL).summary().endsWith(", consistency user"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0        | 0",
        "0s       | 0",
        "0ms      | 0",
        "1ms      | 1",
        "50ms     | 50",
        "1s       | 1000",
        "60s      | 60000",
        "1m       | 60000",
        "60000ms  | 60000",
    })
    void causalWaitFromZeroToSixtySeconds(String yaml, long millis) throws ConfigException {
        if (yaml.equals("0")) {
            // A bare 0 has no unit and, like every duration, is rejected; "0 allowed" means 0s / 0ms.
            assertEquals(List.of("5:16: routing.causal_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                    + " got \"0\""), located(MINIMAL + "routing:\n  causal_wait: 0\n"));
            return;
        }
        assertEquals(Duration.ofMillis(millis), parse(MINIMAL + "routing: {causal_wait: " + yaml + "}\n").routing()
                .causalWait());
    }

    @Test
    void maxLagAbsentEmptyOrNullIsUnbounded() throws ConfigException {
        for (String yaml : List.of("routing: {}\n", "routing: {max_lag: {}}\n", "routing:\n  max_lag:\n",
                "routing: {max_lag: ~}\n", "routing: {max_lag: null}\n")) {
            MaxLag lag = parse(MINIMAL + yaml).routing().maxLag();
            assertEquals(MaxLag.NONE, lag, yaml);
            assertNull(lag.bytes(), yaml);
            assertNull(lag.time(), yaml);
            assertFalse(lag.isBounded(), yaml);
        }
    }

    @Test
    void maxLagBoundsAreEachOptional() throws ConfigException {
        MaxLag bytesOnly = parse(MINIMAL + "routing: {max_lag: {bytes: 16MB}}\n").routing().maxLag();
        assertEquals(new MaxLag(16L * 1024 * 1024, null), bytesOnly);
        assertTrue(bytesOnly.isBounded());
        MaxLag timeOnly = parse(MINIMAL + "routing: {max_lag: {time: 5s}}\n").routing().maxLag();
        assertEquals(new MaxLag(null, Duration.ofSeconds(5)), timeOnly);
        assertTrue(timeOnly.isBounded());
        assertEquals(new MaxLag(16L * 1024 * 1024, Duration.ofSeconds(5)),
                parse(MINIMAL + "routing: {max_lag: {bytes: 16MB, time: 5s}}\n").routing().maxLag());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "1       | 1",
        "1B      | 1",
        "65536   | 65536",
        "1kB     | 1024",
        "16MB    | 16777216",
        "1GiB    | 1073741824",
        "2GB     | 2147483648",
        "2048MB  | 2147483648",
    })
    void maxLagBytesFromOneByteToTwoGigabytes(String yaml, long bytes) throws ConfigException {
        assertEquals(bytes, parse(MINIMAL + "routing: {max_lag: {bytes: " + yaml + "}}\n").routing().maxLag()
                .bytes());
    }

    @Test
    void unknownMaxLagKeyNamesTheAllowedKeys() {
        assertEquals(List.of("5:25: routing.max_lag.lag: unknown key (expected one of: bytes, time)"),
                located(MINIMAL + "routing:\n  max_lag: {bytes: 1MB, lag: 5s}\n"));
        assertEquals(List.of("6:5: routing.max_lag.seconds: unknown key (expected one of: bytes, time)"),
                located(MINIMAL + "routing:\n  max_lag:\n    seconds: 5\n"));
    }

    /** Each entry goes on line 5, under "routing:"; the expectation is "line:column: path: message". */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "consistency: strong          | 5:16: routing.consistency: expected one of session, user, global, eventual,"
                + " got \"strong\"",
        "consistency: USER            | 5:16: routing.consistency: expected one of session, user, global, eventual,"
                + " got \"USER\"",
        "consistency: ~               | 5:16: routing.consistency: expected one of session, user, global, eventual,"
                + " got null",
        "consistency: [user]          | 5:16: routing.consistency: expected one of session, user, global, eventual,"
                + " got a list",
        "causal_wait: 61s             | 5:16: routing.causal_wait: must be at most 60s, got \"61s\"",
        "causal_wait: 60001ms         | 5:16: routing.causal_wait: must be at most 60s, got \"60001ms\"",
        "causal_wait: 2m              | 5:16: routing.causal_wait: must be at most 60s, got \"2m\"",
        "causal_wait: 1h              | 5:16: routing.causal_wait: must be at most 60s, got \"1h\"",
        "causal_wait: 200000000000d   | 5:16: routing.causal_wait: must be at most 60s, got \"200000000000d\"",
        "causal_wait: 999999999999999999d | 5:16: routing.causal_wait: duration is too large,"
                + " got \"999999999999999999d\"",
        "causal_wait: -1ms            | 5:16: routing.causal_wait: must not be negative, got \"-1ms\"",
        "causal_wait: 50              | 5:16: routing.causal_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"50\"",
        "causal_wait: ~               | 5:16: routing.causal_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got null",
        "max_lag: 16MB                | 5:12: routing.max_lag: expected a mapping, got \"16MB\"",
        "max_lag: [16MB, 5s]          | 5:12: routing.max_lag: expected a mapping, got a list",
        "max_lag: {bytes: 0}          | 5:20: routing.max_lag.bytes: must be between 1B and 2GB, got \"0\"",
        "max_lag: {bytes: 2049MB}     | 5:20: routing.max_lag.bytes: must be between 1B and 2GB, got \"2049MB\"",
        "max_lag: {bytes: 1TB}        | 5:20: routing.max_lag.bytes: must be between 1B and 2GB, got \"1TB\"",
        "max_lag: {bytes: 16mb}       | 5:20: routing.max_lag.bytes: expected a size such as 65536, 64kB, 256MB or"
                + " 1GiB, got \"16mb\"",
        "max_lag: {bytes: -1}         | 5:20: routing.max_lag.bytes: expected a size such as 65536, 64kB, 256MB or"
                + " 1GiB, got \"-1\"",
        "max_lag: {bytes: ~}          | 5:20: routing.max_lag.bytes: expected a size such as 65536, 64kB, 256MB or"
                + " 1GiB, got null",
        "max_lag: {time: 0s}          | 5:19: routing.max_lag.time: must be greater than 0, got \"0s\"",
        "max_lag: {time: 5}           | 5:19: routing.max_lag.time: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"5\"",
        "max_lag: {time: -5s}         | 5:19: routing.max_lag.time: must not be negative, got \"-5s\"",
        "max_lag: {time: ~}           | 5:19: routing.max_lag.time: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got null",
        "max_lag: {bytes: 1MB, bytes: 2MB} | 5:25: routing.max_lag.bytes: duplicate key (first defined at line 5)",
    })
    void badCausalReadValues(String entry, String expected) {
        assertEquals(List.of(expected), located(MINIMAL + "routing:\n  " + entry + "\n"));
    }

    @Test
    void causalReadProblemsAreAllReportedInDocumentOrder() {
        assertEquals(List.of(
                "5:16: routing.consistency: expected one of session, user, global, eventual, got \"causal\"",
                "6:16: routing.causal_wait: must be at most 60s, got \"90s\"",
                "8:12: routing.max_lag.bytes: must be between 1B and 2GB, got \"0B\"",
                "9:11: routing.max_lag.time: must be greater than 0, got \"0ms\"",
                "10:5: routing.max_lag.rows: unknown key (expected one of: bytes, time)"),
                located(MINIMAL + """
                        routing:
                          consistency: causal
                          causal_wait: 90s
                          max_lag:
                            bytes: 0B
                            time: 0ms
                            rows: 10
                        """));
    }

    @Test
    void fallbackAndAlwaysNeedNoReplica() throws ConfigException {
        assertEquals(PrimaryReads.FALLBACK, parse(MINIMAL + "routing: {primary_reads: fallback}\n").routing()
                .primaryReads());
        assertEquals(PrimaryReads.ALWAYS, parse(MINIMAL + "routing: {primary_reads: always}\n").routing()
                .primaryReads());
    }

    @Test
    void writeFunctionsAreAnImmutableCopy() {
        List<String> names = new ArrayList<>(List.of("nextval"));
        Routing routing = new Routing(Balance.RANDOM, PrimaryReads.NEVER, names, VolatileFunctions.REPLICA);
        names.add("setval");
        assertEquals(List.of("nextval"), routing.writeFunctions());
        assertThrows(UnsupportedOperationException.class, () -> routing.writeFunctions().add("x"));
        assertThrows(NullPointerException.class,
                () -> new Routing(null, PrimaryReads.NEVER, List.of(), VolatileFunctions.REPLICA));
    }

    @Test
    void unknownKeyNamesTheAllowedKeys() {
        assertEquals(List.of("routing.balancing: unknown key (expected one of: balance, primary_reads,"
                + " write_functions, volatile_functions, consistency, causal_wait, max_lag, primary_wait)"),
                problems(MINIMAL + "routing: {balancing: random}\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "balance: fastest           | routing.balance: expected one of least-outstanding, round-robin, random,"
                + " got \"fastest\"",
        "balance: round_robin       | routing.balance: expected one of least-outstanding, round-robin, random,"
                + " got \"round_robin\"",
        "balance: ~                 | routing.balance: expected one of least-outstanding, round-robin, random,"
                + " got null",
        "primary_reads: sometimes   | routing.primary_reads: expected one of never, fallback, always,"
                + " got \"sometimes\"",
        "primary_reads: false       | routing.primary_reads: expected one of never, fallback, always, got \"false\"",
        "volatile_functions: both   | routing.volatile_functions: expected one of replica, primary, got \"both\"",
        "volatile_functions: [a]    | routing.volatile_functions: expected one of replica, primary, got a list",
        "write_functions: nextval   | routing.write_functions: expected a list of function names, got \"nextval\"",
        "write_functions: ~         | routing.write_functions: expected a list of function names, got null",
        "write_functions: {a: b}    | routing.write_functions: expected a list of function names, got a mapping",
        "write_functions: [a, '']   | routing.write_functions[1]: expected a non-empty function name, got \"\"",
        "write_functions: [a, ~]    | routing.write_functions[1]: expected a non-empty function name, got null",
        "write_functions: [[a]]     | routing.write_functions[0]: expected a non-empty function name, got a list",
    })
    void badValues(String entry, String expected) {
        assertEquals(List.of(expected), problems(MINIMAL + "routing:\n  " + entry + "\n"));
    }

    @Test
    void sectionMustBeAMapping() {
        assertEquals(List.of("routing: expected a mapping, got \"round-robin\""),
                problems(MINIMAL + "routing: round-robin\n"));
    }

    @Test
    void emptyFunctionNameFromEnvironmentShowsTheReference() {
        assertEquals(List.of("routing.write_functions[0]: expected a non-empty function name, got \"\""
                + " (from ${FN})"), problems(MINIMAL + "routing: {write_functions: [\"${FN}\"]}\n", Map.of("FN", "")));
        assertEquals(List.of("routing.write_functions[0]: environment variable FN is not set"),
                problems(MINIMAL + "routing: {write_functions: [\"${FN}\"]}\n"));
    }

    @Test
    void duplicateWriteFunctionsNameTheFirst() {
        assertEquals(List.of("routing.write_functions[2]: duplicate function \"nextval\""
                + " (same as routing.write_functions[0])"),
                problems(MINIMAL + "routing: {write_functions: [nextval, setval, nextval]}\n"));
        // PostgreSQL folds unquoted names to lower case, so these name the same function.
        assertEquals(List.of("routing.write_functions[1]: duplicate function \"App.Bump\""
                + " (same as routing.write_functions[0])",
                "routing.write_functions[3]: duplicate function \"app.bump\" (same as routing.write_functions[0])"),
                problems(MINIMAL + "routing: {write_functions: [app.bump, App.Bump, other, app.bump]}\n"));
    }

    @Test
    void neverNeedsAReplica() {
        assertEquals(List.of("routing.primary_reads: never needs at least one replica in backends"),
                problems(MINIMAL + "routing: {primary_reads: never}\n"));
        assertEquals(List.of("6:18: routing.primary_reads: never needs at least one replica in backends"),
                located(MINIMAL + "routing:\n  balance: random\n  primary_reads: never\n"));
    }

    @Test
    void neverIsSatisfiedByABackendWithRoleAuto() throws ConfigException {
        // Whichever of them the monitor finds in recovery is a replica.
        PgBalancerConfig config = parse(AUTH + """
                backends:
                  - {host: a, role: auto}
                  - {host: b, role: auto}
                routing: {primary_reads: never}
                """);
        assertEquals(PrimaryReads.NEVER, config.routing().primaryReads());
        assertEquals(PrimaryReads.NEVER, parse(MINIMAL.replace("primary}", "primary}\n  - {host: r, role: auto}")
                + "routing: {primary_reads: never}\n").routing().primaryReads());
    }

    @Test
    void neverIsSatisfiedByDiscovery() throws ConfigException {
        // The replicas may all come from discovery: a primary alone in backends is then fine.
        PgBalancerConfig config = parse(MINIMAL + """
                discovery:
                  dns: [{name: pg-ro.db.svc.cluster.local, role: replica}]
                routing: {primary_reads: never}
                """);
        assertEquals(PrimaryReads.NEVER, config.routing().primaryReads());
        assertEquals(PrimaryReads.NEVER, parse(AUTH + """
                discovery:
                  kubernetes: {service: pg}
                routing: {primary_reads: never}
                """).routing().primaryReads());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0s       | 0",
        "0ms      | 0",
        "1ms      | 1",
        "10s      | 10000",
        "90s      | 90000",
        "5m       | 300000",
        "300s     | 300000",
        "300000ms | 300000",
    })
    void primaryWaitFromZeroToFiveMinutes(String yaml, long millis) throws ConfigException {
        assertEquals(Duration.ofMillis(millis), parse(MINIMAL + "routing: {primary_wait: " + yaml + "}\n").routing()
                .primaryWait());
    }

    /** Each entry goes on line 5, under "routing:"; the expectation is "line:column: path: message". */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "primary_wait: 301s      | 5:17: routing.primary_wait: must be at most 5m, got \"301s\"",
        "primary_wait: 300001ms  | 5:17: routing.primary_wait: must be at most 5m, got \"300001ms\"",
        "primary_wait: 1h        | 5:17: routing.primary_wait: must be at most 5m, got \"1h\"",
        "primary_wait: -1s       | 5:17: routing.primary_wait: must not be negative, got \"-1s\"",
        "primary_wait: 0         | 5:17: routing.primary_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"0\"",
        "primary_wait: 10        | 5:17: routing.primary_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"10\"",
        "primary_wait: ~         | 5:17: routing.primary_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got null",
        "primary_wait: forever   | 5:17: routing.primary_wait: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"forever\"",
        "primary_wait: 999999999999999999d | 5:17: routing.primary_wait: duration is too large,"
                + " got \"999999999999999999d\"",
    })
    void badPrimaryWait(String entry, String expected) {
        assertEquals(List.of(expected), located(MINIMAL + "routing:\n  " + entry + "\n"));
    }

    @Test
    void neverIsNotCheckedWhenBackendsAreBroken() {
        // The replica's role is misspelt, so "no replica" would be misleading: only the role is reported.
        assertEquals(List.of("backends[1].role: expected one of primary, replica, auto, got \"replca\""),
                problems(AUTH + """
                        backends:
                          - {host: p, role: primary}
                          - {host: r, role: replca}
                        routing: {primary_reads: never}
                        """));
    }

    @Test
    void severalRoutingProblemsAreAllReportedInDocumentOrder() {
        String yaml = MINIMAL + """
                routing:
                  balance: fastest
                  primary_reads: never
                  write_functions: [nextval, "", nextval]
                  volatile_functions: sometimes
                  sticky: true
                pool: {size: 0}
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, Map.of(), "my.yaml"));
        List<String> expected = List.of(
                "routing.balance: expected one of least-outstanding, round-robin, random, got \"fastest\"",
                "routing.primary_reads: never needs at least one replica in backends",
                "routing.write_functions[1]: expected a non-empty function name, got \"\"",
                "routing.write_functions[2]: duplicate function \"nextval\" (same as routing.write_functions[0])",
                "routing.volatile_functions: expected one of replica, primary, got \"sometimes\"",
                "routing.sticky: unknown key (expected one of: balance, primary_reads, write_functions,"
                        + " volatile_functions, consistency, causal_wait, max_lag, primary_wait)",
                "pool.size: expected a positive integer, got 0");
        assertEquals(expected, e.problems().stream().map(ConfigProblem::toString).toList());
        assertEquals("my.yaml:5:12: " + expected.get(0),
                e.report().lines().skip(1).findFirst().orElseThrow().trim());
        assertEquals("my.yaml:6:18: " + expected.get(1),
                e.report().lines().skip(2).findFirst().orElseThrow().trim());
    }
}

// purpose: tests the "routing" section: defaults, every value, each problem with its exact path and message
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.AUTH;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    }

    @Test
    void defaultsMatchTheConstants() {
        assertEquals(new Routing(Routing.DEFAULT_BALANCE, Routing.DEFAULT_PRIMARY_READS,
                Routing.DEFAULT_WRITE_FUNCTIONS, Routing.DEFAULT_VOLATILE_FUNCTIONS), Routing.defaults());
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
                """, Map.of("AUDIT_FN", "audit.log_event"));
        assertEquals(new Routing(Balance.RANDOM, PrimaryReads.NEVER,
                List.of("nextval", "setval", "pg_advisory_lock", "app.allocate_id", "audit.log_event"),
                VolatileFunctions.PRIMARY), config.routing());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 1 primary + 1 replica,"
                + " 1 user (scram-sha-256), routing random", config.summary());
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
                + " write_functions, volatile_functions)"), problems(MINIMAL + "routing: {balancing: random}\n"));
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
    }

    @Test
    void neverIsNotCheckedWhenBackendsAreBroken() {
        // The replica's role is misspelt, so "no replica" would be misleading: only the role is reported.
        assertEquals(List.of("backends[1].role: expected one of primary, replica, got \"replca\""),
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
                        + " volatile_functions)",
                "pool.size: expected a positive integer, got 0");
        assertEquals(expected, e.problems().stream().map(ConfigProblem::toString).toList());
        assertEquals("my.yaml:5:12: " + expected.get(0),
                e.report().lines().skip(1).findFirst().orElseThrow().trim());
        assertEquals("my.yaml:6:18: " + expected.get(1),
                e.report().lines().skip(2).findFirst().orElseThrow().trim());
    }
}

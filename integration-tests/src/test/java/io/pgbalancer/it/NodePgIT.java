// purpose: node-postgres (npm package pg) through pgbalancer with reads on 3 replicas.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each test runs one scenario of {@code src/test/node/pg_checks.js} against a fresh pgbalancer. The driver comes
 * from the npm registry: {@code npm ci} (package.json + package-lock.json) runs once, when node_modules is missing.
 */
class NodePgIT extends DriverScenarios {
    private static Path scripts;


    @BeforeAll
    static void requireNodeAndPg() throws Exception {
        scripts = DriverScripts.sources("node");
        assumeTrue(DriverScripts.succeeds(scripts, "node", "--version"), "node is not installed (Debian package nodejs)");
        if (!Files.isDirectory(scripts.resolve("node_modules/pg"))) {
            assumeTrue(DriverScripts.succeeds(scripts, "npm", "--version"), "npm is not installed (Debian package npm)");
            DriverScripts.Result r = DriverScripts.run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(),
                    scripts, Duration.ofMinutes(5));
            assertEquals(0, r.exit(), "npm ci of the pg driver failed\n" + r.describe());
        }
    }

    @Override
    String driver() {
        return "node-postgres";
    }

    @Override
    List<String> command() {
        return List.of("node", "pg_checks.js");
    }

    @Override
    Path scripts() {
        return scripts;
    }

    /** Simple-protocol queries on replicas, multi-statement results, 1000 rows, rowMode array. */
    /** 10,000 x (insert a row, read it back) on one connection with reads routed: never stale (causal reads). */
    @Test
    void causalReadsNeverMissTheConnectionsOwnWrite() throws Exception {
        scenario("causal");
    }

    @Test
    void simpleQueries() throws Exception {
        scenario("simple");
    }

    /** Unnamed extended-protocol queries with typed values on replicas; parameterised inserts on the primary. */
    @Test
    void parameterisedQueries() throws Exception {
        scenario("parameters");
    }

    /** {name, text, values} run repeatedly; the same name with another text on a second client; failing executions. */
    @Test
    void namedPreparedStatements() throws Exception {
        scenario("prepared");
    }

    /** Write then read in one transaction (one backend, the primary), rollback, savepoint, BEGIN READ ONLY. */
    @Test
    void transactions() throws Exception {
        scenario("transaction");
    }

    /** Errors in both protocols and inside a transaction (25P02 until ROLLBACK), each followed by a query. */
    @Test
    void errorThenRecovery() throws Exception {
        scenario("error");
    }

    /** 8 clients at once, 25 rounds each, every answer tagged with its client's id. */
    @Test
    void concurrentClients() throws Exception {
        scenario("concurrent");
    }
}

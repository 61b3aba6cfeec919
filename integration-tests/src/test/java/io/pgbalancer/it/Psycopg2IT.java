// purpose: psycopg2 (libpq, simple protocol) through pgbalancer with reads on 3 replicas.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each test runs one scenario of {@code src/test/python/psycopg2_checks.py} with Debian's python3-psycopg2 (hence
 * {@code /usr/bin/python3}) against a fresh pgbalancer.
 */
class Psycopg2IT extends DriverScenarios {
    private static final String PYTHON = "/usr/bin/python3";
    private static Path scripts;


    @BeforeAll
    static void requirePsycopg2() {
        scripts = DriverScripts.sources("python");
        assumeTrue(DriverScripts.succeeds(scripts, PYTHON, "-c", "import psycopg2"),
                "psycopg2 is not installed for " + PYTHON + " (Debian package python3-psycopg2)");
    }

    @Override
    String driver() {
        return "psycopg2";
    }

    @Override
    List<String> command() {
        return List.of(PYTHON, scripts.resolve("psycopg2_checks.py").toString());
    }

    @Override
    Path scripts() {
        return scripts;
    }

    /** Autocommit reads on replicas, multi-statement queries, SET; psycopg2's implicit BEGIN; read-only sessions. */
    /** 10,000 x (insert a row, read it back) on one connection with reads routed: never stale (causal reads). */
    @Test
    void causalReadsNeverMissTheConnectionsOwnWrite() throws Exception {
        scenario("causal");
    }

    @Test
    void simpleQueries() throws Exception {
        scenario("simple");
    }

    /** Positional, named, typed and list parameters; executemany; INSERT ... RETURNING on the primary. */
    @Test
    void parameters() throws Exception {
        scenario("parameters");
    }

    /** Write then read in one transaction (one backend, the primary), rollback, {@code with conn:}, savepoint. */
    @Test
    void transactions() throws Exception {
        scenario("transaction");
    }

    /** Errors in autocommit and inside a transaction (InFailedSqlTransaction until ROLLBACK), then queries work. */
    @Test
    void errorThenRecovery() throws Exception {
        scenario("error");
    }

    /** Named (server-side) cursors with fetchmany: read-write and read-only transactions, WITH HOLD across commits. */
    @Test
    void namedCursorFetchmany() throws Exception {
        scenario("named_cursor");
    }

    /** copy_expert COPY FROM STDIN and COPY TO STDOUT (csv and text), in a transaction, with bad data. */
    @Test
    void copyExpert() throws Exception {
        scenario("copy");
    }

    /** options='-c DateStyle=Postgres,MDY ...' and PGDATESTYLE: SHOW datestyle on every server that serves the client. */
    @Test
    void dateStyleFromStartup() throws Exception {
        scenario("datestyle");
    }
}

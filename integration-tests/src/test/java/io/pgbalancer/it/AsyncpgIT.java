// purpose: asyncpg (Parse/Describe/Flush before Bind/Execute/Sync) through pgbalancer with reads on 3 replicas.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each test runs one scenario of {@code src/test/python/asyncpg_checks.py} with Debian's python3-asyncpg (hence
 * {@code /usr/bin/python3}: another python3 on PATH may lack it) against a fresh pgbalancer. asyncpg prepares every
 * statement with Parse/Describe/Flush and waits for ParseComplete/ParameterDescription/RowDescription before it
 * sends Bind/Execute/Sync; the script bounds every call at 20 s, so a proxy that holds those answers back fails
 * the scenario at the step that hung.
 */
class AsyncpgIT extends DriverScenarios {
    private static final String PYTHON = "/usr/bin/python3";
    private static Path scripts;


    @BeforeAll
    static void requireAsyncpg() {
        scripts = DriverScripts.sources("python");
        assumeTrue(DriverScripts.succeeds(scripts, PYTHON, "-c", "import asyncpg"),
                "asyncpg is not installed for " + PYTHON + " (Debian package python3-asyncpg)");
    }

    @Override
    String driver() {
        return "asyncpg";
    }

    @Override
    List<String> command() {
        return List.of(PYTHON, scripts.resolve("asyncpg_checks.py").toString());
    }

    @Override
    Path scripts() {
        return scripts;
    }

    /** fetchval("select 1"), parameters, where autocommit reads run (replicas, spread), 100 rows. */
    /** 10,000 x (insert a row, read it back) on one connection with reads routed: never stale (causal reads). */
    @Test
    void causalReadsNeverMissTheConnectionsOwnWrite() throws Exception {
        scenario("causal");
    }

    @Test
    void fetchval() throws Exception {
        scenario("fetchval");
    }

    /** conn.prepare + fetch/fetchval/fetchrow with parameters, 25 times; a second connection preparing the same text. */
    @Test
    void preparedStatements() throws Exception {
        scenario("prepared");
    }

    /** executemany inserts and updates on the primary, a failing batch, the rows read back on a replica. */
    @Test
    void executemany() throws Exception {
        scenario("executemany");
    }

    /** conn.cursor with prefetch, cursor.fetch(n)/forward/fetchrow in a transaction (primary) and a read-only one. */
    @Test
    void cursorsInTransactions() throws Exception {
        scenario("cursor");
    }

    /** copy_records_to_table, copy_from_query into a buffer, copy_to_table from it, copy_from_table, bad data. */
    @Test
    void copy() throws Exception {
        scenario("copy");
    }

    /** Write then read in one transaction (one backend, the primary), rollback, savepoint, a read-only transaction. */
    @Test
    void transactions() throws Exception {
        scenario("transaction");
    }

    /** DivisionByZeroError (plain and prepared), a missing table, a failed transaction, each followed by a query. */
    @Test
    void errorThenRecovery() throws Exception {
        scenario("error");
    }

    /** 8 connections with asyncio.gather, 25 rounds each, every answer tagged with its client's id. */
    @Test
    void concurrentConnections() throws Exception {
        scenario("concurrent");
    }
}

// purpose: settings follow exactly what the server applied: RESET to the client's own startup value, savepoints, errors.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs with the 3 replicas configured and reads routed, one backend connection per server, so the next client on a
 * backend is easy to reach: whatever a client leaves behind on a backend would show up in the next one's SHOW.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionSettingsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.startWithReplicas("pool: {mode: transaction, size: 1, checkout_timeout: 10s}\n");
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static String show(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Every server, reached through a fresh client with no settings of its own, shows the server default. */
    private static void assertCleanForNextClient(String name, String serverDefault) throws SQLException {
        for (int i = 0; i < 8; i++) { // reads spread over the replicas; writes (BEGIN) take the primary
            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                assertEquals(serverDefault, show(st, name), "a fresh client must not inherit " + name);
                c.setAutoCommit(false);
                assertEquals(serverDefault, show(st, name), "a fresh client on the primary must not inherit " + name);
                c.commit();
            }
        }
    }

    @Test
    void resetReturnsToTheClientsStartupValue() throws Exception {
        // the startup values in the startup packet itself (pgjdbc 42.7.5+ sends ApplicationName as a SET after login)
        try (Connection c = proxy.connect("options",
                "-c search_path=pg_catalog,public -c application_name=startup-name");
             Statement st = c.createStatement()) {
            st.execute("SET application_name TO 'changed'");
            st.execute("SET search_path TO public");
            assertEquals("changed", show(st, "application_name"));
            st.execute("RESET application_name");
            assertEquals("startup-name", show(st, "application_name"), "RESET must land on the startup value");
            c.setAutoCommit(false); // on the primary, where the RESET ran
            assertEquals("startup-name", show(st, "application_name"), "RESET must land on the startup value");
            c.commit();
            c.setAutoCommit(true);
            assertEquals("startup-name", c.getClientInfo("ApplicationName"), "the driver must be told it too");
            assertEquals("public", show(st, "search_path"));
            st.execute("RESET ALL");
            assertEquals("pg_catalog,public", show(st, "search_path"), "RESET ALL must land on the startup value");
            assertEquals("startup-name", show(st, "application_name"));
            c.setAutoCommit(false);
            assertEquals("pg_catalog,public", show(st, "search_path"), "on the primary too");
            c.commit();
            c.setAutoCommit(true);
            for (int i = 0; i < 6; i++) { // and it stays so on whichever server serves the next reads
                assertEquals("pg_catalog,public", show(st, "search_path"));
            }
        }
        assertCleanForNextClient("search_path", "\"$user\", public");
    }

    @Test
    void psqlWithPgdatestyleGetsItsDateStyleBackAfterReset() throws Exception {
        Optional<Path> psql = TestCluster.get().binaries().find("psql");
        assumeTrue(psql.isPresent(), "psql is not available with these PostgreSQL binaries");
        ProcessBuilder pb = new ProcessBuilder(psql.get().toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "-U", "app", "-d", "app",
                "-c", "SHOW datestyle", "-c", "SET datestyle TO iso", "-c", "SHOW datestyle",
                "-c", "RESET datestyle", "-c", "BEGIN", "-c", "SHOW datestyle", "-c", "COMMIT",
                "-c", "SET datestyle TO german", "-c", "RESET ALL", "-c", "BEGIN", "-c", "SHOW datestyle",
                "-c", "COMMIT");
        pb.environment().put("PGPASSWORD", TestCluster.APP_PASSWORD);
        pb.environment().put("PGDATESTYLE", "Postgres, MDY");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank() && !List.of("SET", "RESET", "BEGIN", "COMMIT").contains(line.trim())) {
                lines.add(line.trim());
            }
        }
        assertEquals(List.of("Postgres, MDY", "ISO, MDY", "Postgres, MDY", "Postgres, MDY"), lines, out);
    }

    @Test
    void aSetBeforeARolledBackSavepointLastsAndIsResetForTheNextClient() throws Exception {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET statement_timeout TO '4321ms'");
            st.execute("SAVEPOINT s1");
            st.execute("SET lock_timeout TO '999ms'");
            assertThrows(SQLException.class, () -> st.execute("SELECT 1/0"));
            st.execute("ROLLBACK TO SAVEPOINT s1");
            st.execute("RELEASE SAVEPOINT s1");
            c.commit();
            c.setAutoCommit(true);
            for (int i = 0; i < 6; i++) { // on every server that serves this client from now on
                assertEquals("4321ms", show(st, "statement_timeout"), "the SET before the savepoint lasts");
                assertEquals("0", show(st, "lock_timeout"), "the SET after the savepoint was rolled back");
            }
        }
        assertCleanForNextClient("statement_timeout", "0");
    }

    @Test
    void pgjdbcAutosaveKeepsSetsMadeBeforeAnError() throws Exception {
        try (Connection c = proxy.connect("autosave", "always"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET idle_in_transaction_session_timeout TO '777s'");
            assertThrows(SQLException.class, () -> st.execute("SELECT 1/0")); // pgjdbc rolls back to its savepoint
            st.execute("SET work_mem TO '7MB'");
            c.commit();
            c.setAutoCommit(true);
            for (int i = 0; i < 6; i++) {
                assertEquals("777s", show(st, "idle_in_transaction_session_timeout"));
                assertEquals("7MB", show(st, "work_mem"));
            }
        }
        assertCleanForNextClient("idle_in_transaction_session_timeout", "0");
        assertCleanForNextClient("work_mem", "4MB");
    }

    @Test
    void aRolledBackTransactionsSetsAreGoneEverywhere() throws Exception {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET statement_timeout TO '1111ms'");
            assertThrows(SQLException.class, () -> st.execute("SELECT 1/0"));
            c.rollback();
            c.setAutoCommit(true);
            assertEquals("0", show(st, "statement_timeout"));
        }
        assertCleanForNextClient("statement_timeout", "0");
    }
}

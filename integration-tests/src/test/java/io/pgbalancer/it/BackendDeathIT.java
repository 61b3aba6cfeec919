// purpose: a backend connection that dies at an awkward moment (while a login applies its settings, answering a hidden
// query, right behind a ReadyForQuery) costs its client nothing: no hang, no error, no lost session. Each was found by
// FaultMatrixIT's pg_terminate_backend case; DyingServer makes the moment deterministic.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackendDeathIT {
    private static String backends(int firstReplica, Integer secondReplica) {
        return "backends:\n  - {host: 127.0.0.1, port: ${PRIMARY_PORT}, role: primary}\n"
                + "  - {host: 127.0.0.1, port: " + firstReplica + ", role: replica}\n"
                + (secondReplica == null ? "" : "  - {host: 127.0.0.1, port: " + secondReplica + ", role: replica}\n");
    }

    private static String value(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * A login on a replica (the primary is banned) applies the client's settings there with a hidden query; when that
     * backend dies before the client was told its login is complete, the login runs again elsewhere. It used to wait
     * forever: the read replay window the replica login opened held nothing to re-run.
     */
    @Test
    void loginWhoseBackendDiesBeforeTheClientIsWelcomedLogsInAgain() throws Exception {
        List<Integer> replicas = TestCluster.get().replicaPorts();
        try (DyingServer dying = new DyingServer(replicas.get(0), DyingServer.Death.CLOSE_AT_QUERY);
             TestProxy proxy = TestProxy.start("admin: {users: [app]}\n" + backends(dying.port(), replicas.get(1)))) {
            Properties p = new Properties();
            p.setProperty("user", "app");
            p.setProperty("password", TestCluster.APP_PASSWORD);
            p.setProperty("preferQueryMode", "simple");
            try (Connection console = DriverManager.getConnection(proxy.jdbcUrl("pgbalancer"), p);
                 Statement st = console.createStatement()) {
                st.execute("BAN 127.0.0.1:" + TestCluster.get().primaryPort()); // logins go to the replicas
            }
            for (int i = 0; i < 20 && dying.deaths() == 0; i++) {
                long t0 = System.nanoTime();
                try (Connection c = proxy.connect("ApplicationName", "login-" + i, "loginTimeout", "8");
                     Statement st = c.createStatement()) {
                    assertEquals("login-" + i, value(st, "select current_setting('application_name')"));
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 5000, "login " + i + " took " + ms + " ms");
            }
            assertEquals(1, dying.deaths(), "no login's settings query reached the dying server");
        }
    }

    /**
     * A read's backend answers pgbalancer's hidden settings query with FATAL and closes: the read runs again on
     * another replica. The FATAL belonged to the dead backend; it used to be remembered and to end the session at
     * the next backend's first ReadyForQuery, failing the re-run read with 57P01.
     */
    @Test
    void fatalAnswerToAHiddenQueryDiesWithItsBackend() throws Exception {
        List<Integer> replicas = TestCluster.get().replicaPorts();
        try (DyingServer dying = new DyingServer(replicas.get(0), DyingServer.Death.FATAL_AT_QUERY);
             TestProxy proxy = TestProxy.start(backends(dying.port(), replicas.get(1)));
             Connection c = proxy.connect("ApplicationName", "hidden-fatal");
             Statement st = c.createStatement()) {
            for (int i = 0; i < 20 && dying.deaths() == 0; i++) {
                assertEquals("read-" + i, value(st, "select 'read-" + i + "'"));
            }
            assertEquals(1, dying.deaths(), "no settings query reached the dying server");
            for (int i = 0; i < 5; i++) {
                assertEquals("after-" + i, value(st, "select 'after-" + i + "'"), "the session goes on");
            }
        }
    }

    /**
     * The server ends a backend (pg_terminate_backend) just after the ReadyForQuery that ended its client's
     * transaction, and both arrive in one read. The client's transaction is over and nothing is owed to it: the FATAL
     * is dropped with the backend, as for an idle pooled connection. It used to be forwarded, so the client's next
     * query failed with 57P01 although pgbalancer had kept its session.
     */
    @Test
    void fatalRightBehindReadyForQueryIsNotTheClientsBusiness() throws Exception {
        int replica = TestCluster.get().replicaPorts().get(0);
        try (DyingServer dying = new DyingServer(replica, DyingServer.Death.FATAL_AFTER_MARKED_CYCLE);
             TestProxy proxy = TestProxy.start("pool: {mode: transaction, size: 1, checkout_timeout: 5s}\n"
                     + backends(dying.port(), null));
             Connection c = proxy.connect("ApplicationName", "fatal-behind-rfq");
             Statement st = c.createStatement()) {
            assertEquals("1", value(st, "select 1")); // the replica's backend now has the client's settings
            assertEquals(DyingServer.MARK, value(st, "select '" + DyingServer.MARK + "'"));
            assertEquals(1, dying.deaths());
            for (int i = 0; i < 5; i++) {
                assertEquals("next-" + i, value(st, "select 'next-" + i + "'"), "the session goes on");
            }
        }
    }
}

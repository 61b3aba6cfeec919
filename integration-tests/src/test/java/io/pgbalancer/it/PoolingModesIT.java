// purpose: session pooling and its reset, transaction-mode pinning (LISTEN, advisory lock, temp table), checkout_timeout and FIFO waiters.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.util.PSQLException;

class PoolingModesIT {

    // ---------------------------------------------------------------- session mode

    @Test
    void sessionModeKeepsOneBackendPerSessionAndResetsItBeforeReuse() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool: {mode: session, size: 2, checkout_timeout: 5s}\n")) {
            int firstPid;
            try (Connection a = proxy.connect(); Connection b = proxy.connect()) {
                Statement sa = a.createStatement();
                Statement sb = b.createStatement();
                firstPid = intQuery(sa, "select pg_backend_pid()");
                int otherPid = intQuery(sb, "select pg_backend_pid()");
                assertNotEquals(firstPid, otherPid);
                for (int i = 0; i < 5; i++) { // interleaved transactions never swap the sessions' backends
                    assertEquals(firstPid, intQuery(sa, "select pg_backend_pid()"));
                    assertEquals(otherPid, intQuery(sb, "select pg_backend_pid()"));
                    a.setAutoCommit(false);
                    assertEquals(firstPid, intQuery(sa, "select pg_backend_pid()"));
                    a.commit();
                    a.setAutoCommit(true);
                }
                // leave every kind of session state behind on a's backend
                sa.execute("create temp table pooling_it_leftover (x int)");
                sa.execute("insert into pooling_it_leftover values (1)");
                sa.execute("set statement_timeout = '1234s'");
                sa.execute("set search_path = pg_catalog");
                sa.execute("prepare pooling_it_sql_prepared as select 1");
                sa.execute("select pg_advisory_lock(424242)");
                sa.execute("listen pooling_it_session_channel");
                sa.execute("declare pooling_it_cursor cursor with hold for select 1");
                try (PreparedStatement ps = a.prepareStatement("select ?::int + 1")) {
                    a.unwrap(PGConnection.class).setPrepareThreshold(1); // a protocol-level named statement too
                    ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(1);
                    for (int i = 0; i < 3; i++) {
                        ps.setInt(1, i);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertEquals(i + 1, rs.getInt(1));
                        }
                    }
                }
                assertEquals("1234s", stringQuery(sa, "show statement_timeout"));
                assertEquals(1, intQuery(sa, "select count(*) from pg_cursors where is_holdable"));
                assertTrue(intQuery(sa, "select count(*) from pg_prepared_statements") >= 1);

                // a closes; b still holds the other backend, so the next session must get a's (after a reset)
                a.close();
                try (Connection c = proxy.connect()) {
                    Statement sc = c.createStatement();
                    assertEquals(firstPid, intQuery(sc, "select pg_backend_pid()"), "the freed backend was reused");
                    assertNull(stringQuery(sc, "select to_regclass('pooling_it_leftover')::text"), "temp table gone");
                    assertEquals("0", stringQuery(sc, "show statement_timeout"), "SET reset");
                    assertEquals("\"$user\", public", stringQuery(sc, "show search_path"), "SET reset");
                    assertEquals(0, intQuery(sc, "select count(*) from pg_prepared_statements"),
                            "prepared statements gone");
                    assertEquals(0, intQuery(sc, "select count(*) from pg_cursors where is_holdable"),
                            "WITH HOLD cursor gone"); // (pg_cursors also lists this query's own portal)
                    assertEquals(0, intQuery(sc, "select count(*) from pg_listening_channels()"), "LISTEN gone");
                    assertEquals(0, intQuery(sc, "select count(*) from pg_locks where locktype = 'advisory'"
                            + " and pid = pg_backend_pid()"), "advisory lock released");
                    assertEquals(otherPid, intQuery(sb, "select pg_backend_pid()"));
                }
            }
        }
    }

    // ---------------------------------------------------------------- transaction-mode pinning

    @Test
    void listenPinsTheClientSoNotificationsArrive() throws Exception {
        try (TestProxy proxy = TestProxy.start(2); Connection listener = proxy.connect();
             Connection other = proxy.connect()) {
            Statement sl = listener.createStatement();
            Statement so = other.createStatement();
            sl.execute("listen pooling_it_channel");
            int pid = intQuery(sl, "select pg_backend_pid()");
            for (int i = 0; i < 3; i++) { // other clients keep using the pool meanwhile
                assertEquals(pid, intQuery(sl, "select pg_backend_pid()"));
                assertNotEquals(pid, intQuery(so, "select pg_backend_pid()"), "the pinned backend is not shared");
            }
            so.execute("notify pooling_it_channel, 'via proxy'");
            try (Connection direct = TestCluster.directSuperuser("app"); Statement sd = direct.createStatement()) {
                sd.execute("notify pooling_it_channel, 'direct'");
            }
            List<String> payloads = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (payloads.size() < 2 && System.nanoTime() < deadline) {
                PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(1000);
                if (got != null) {
                    for (PGNotification n : got) {
                        assertEquals("pooling_it_channel", n.getName());
                        payloads.add(n.getParameter());
                    }
                }
            }
            assertEquals(List.of("via proxy", "direct"), payloads);
            assertEquals(pid, intQuery(sl, "select pg_backend_pid()"));
            assertEquals(1, intQuery(sl, "select count(*) from pg_listening_channels()"));
        }
    }

    @Test
    void sessionAdvisoryLockPinsTheClientAndIsReleasedAtDisconnect() throws Exception {
        try (TestProxy proxy = TestProxy.start(2); Connection direct = TestCluster.directSuperuser("app")) {
            Statement sd = direct.createStatement();
            int pid;
            try (Connection holder = proxy.connect(); Connection other = proxy.connect()) {
                Statement sh = holder.createStatement();
                Statement so = other.createStatement();
                sh.execute("select pg_advisory_lock(777001)");
                pid = intQuery(sh, "select pg_backend_pid()");
                for (int i = 0; i < 3; i++) {
                    holder.setAutoCommit(false);
                    assertEquals(pid, intQuery(sh, "select pg_backend_pid()"));
                    holder.commit();
                    holder.setAutoCommit(true);
                    assertEquals(pid, intQuery(sh, "select pg_backend_pid()"));
                    assertFalse(boolQuery(so, "select pg_try_advisory_lock(777001)"),
                            "another pgbalancer client must not get the lock");
                    assertFalse(boolQuery(sd, "select pg_try_advisory_lock(777001)"),
                            "another session must not get the lock");
                }
                assertEquals(pid, intQuery(sd, "select pid from pg_locks where locktype = 'advisory'"
                        + " and objid = 777001 and granted"));
            }
            // the backend is not closed at disconnect (DISCARD ALL), so the lock must be gone from it
            Poll.until(Duration.ofSeconds(5), "the advisory lock to be released when its client disconnects",
                    () -> boolQuery(sd, "select pg_try_advisory_lock(777001)"));
            sd.execute("select pg_advisory_unlock(777001)");
            assertEquals(1, intQuery(sd, "select count(*) from pg_stat_activity where pid = " + pid),
                    "released by a reset, not by closing the backend");
        }
    }

    @Test
    void temporaryTableSurvivesAcrossTransactions() throws Exception {
        try (TestProxy proxy = TestProxy.start(2); Connection a = proxy.connect(); Connection b = proxy.connect()) {
            Statement sa = a.createStatement();
            Statement sb = b.createStatement();
            sa.execute("create temp table pooling_it_temp (x int)");
            int pid = intQuery(sa, "select pg_backend_pid()");
            for (int i = 1; i <= 5; i++) {
                sa.execute("insert into pooling_it_temp values (" + i + ")");
                b.setAutoCommit(false); // the other client holds a backend meanwhile
                assertNotEquals(pid, intQuery(sb, "select pg_backend_pid()"));
                assertNull(stringQuery(sb, "select to_regclass('pg_temp.pooling_it_temp')::text"),
                        "another client must not see the temp table");
                b.commit();
                b.setAutoCommit(true);
            }
            a.setAutoCommit(false);
            sa.execute("insert into pooling_it_temp values (6)");
            a.commit();
            a.setAutoCommit(true);
            assertEquals(21, intQuery(sa, "select sum(x) from pooling_it_temp"));
            assertEquals(pid, intQuery(sa, "select pg_backend_pid()"));
        }
    }

    // ---------------------------------------------------------------- checkout timeout and fairness

    @Test
    void checkoutTimeoutGivesAClearErrorAndTheHolderContinues() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool: {mode: transaction, size: 1, checkout_timeout: 1s}\n");
             Connection holder = proxy.connect(); Connection waiter = proxy.connect()) {
            holder.setAutoCommit(false);
            Statement sh = holder.createStatement();
            int pid = intQuery(sh, "select pg_backend_pid()");

            // a connected client's query waits 1 s, then fails clearly instead of hanging
            long t0 = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> waiter.createStatement().execute("select 1"));
            assertCheckoutTimeout(e, t0);

            // a new client's login needs a backend too
            long t1 = System.nanoTime();
            SQLException login = assertThrows(SQLException.class, proxy::connect);
            assertCheckoutTimeout(login, t1);

            assertEquals(pid, intQuery(sh, "select pg_backend_pid()"));
            assertEquals(2, intQuery(sh, "select 2"));
            holder.commit();
            try (Connection after = proxy.connect()) {
                assertEquals(1, intQuery(after.createStatement(), "select 1"));
            }
        }
    }

    private static void assertCheckoutTimeout(SQLException e, long startNanos) {
        long millis = (System.nanoTime() - startNanos) / 1_000_000;
        assertEquals("53300", e.getSQLState(), e.toString());
        assertTrue(e.getMessage().contains("checkout_timeout"), e.getMessage());
        assertTrue(millis >= 900 && millis < 4_000, "failed after " + millis + " ms; checkout_timeout is 1 s");
        if (e instanceof PSQLException p) {
            assertNotNull(p.getServerErrorMessage());
        }
    }

    @Test
    void waitersAreServedInArrivalOrder() throws Exception {
        int waiters = 5;
        ExecutorService pool = Executors.newFixedThreadPool(waiters);
        try (TestProxy proxy = TestProxy.start("pool: {mode: transaction, size: 1, checkout_timeout: 10s}\n"
                + TestProxy.metricsYaml()); Connection holder = proxy.connect()) {
            List<Connection> clients = new ArrayList<>();
            try {
                for (int i = 0; i < waiters; i++) {
                    clients.add(proxy.connect()); // logged in while the backend is free
                }
                holder.setAutoCommit(false);
                intQuery(holder.createStatement(), "select 1"); // holds the only backend
                List<Future<Long>> served = new ArrayList<>();
                for (int i = 0; i < waiters; i++) {
                    Connection c = clients.get(i);
                    // the server assigns transaction ids in the order it runs the transactions
                    served.add(pool.submit(() -> longQuery(c.createStatement(), "select txid_current()")));
                    int queued = i + 1;
                    Future<Long> last = served.get(i);
                    Poll.until(Duration.ofSeconds(5), queued + " waiter(s) queued for the only backend", () ->
                            last.isDone() || proxy.metric("pgbalancer_pool_waiting") == queued);
                }
                for (Future<Long> f : served) {
                    assertFalse(f.isDone(), "a waiter was served while the pool was held");
                }
                holder.commit();
                List<Long> xids = new ArrayList<>();
                for (Future<Long> f : served) {
                    xids.add(f.get(10, TimeUnit.SECONDS));
                }
                List<Integer> order = IntStream.range(0, waiters).boxed()
                        .sorted(Comparator.comparing(xids::get)).toList();
                assertEquals(List.of(0, 1, 2, 3, 4), order, "waiters in start order; xids " + xids);
                Set<Long> distinct = new HashSet<>(xids);
                assertEquals(waiters, distinct.size());
            } finally {
                for (Connection c : clients) {
                    c.close();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static int intQuery(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    private static long longQuery(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getLong(1);
        }
    }

    private static boolean boolQuery(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getBoolean(1);
        }
    }

    private static String stringQuery(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }
}

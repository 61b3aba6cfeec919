// purpose: a client that vanishes mid-transaction or mid-query must not leave locks, uncommitted rows or a dirty backend behind in the pool.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KilledClientIT {
    private static final String TABLE = "killit_accounts";

    private TestProxy proxy;
    private ExecutorService bg;

    @BeforeAll
    static void createTable() throws Exception {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("SET ROLE app");
            st.execute("DROP TABLE IF EXISTS " + TABLE);
            st.execute("CREATE TABLE " + TABLE + " (id int primary key, owner text)");
        }
    }

    @AfterAll
    static void dropTable() throws Exception {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + TABLE);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("TRUNCATE " + TABLE);
            st.execute("INSERT INTO " + TABLE + " VALUES (1, 'initial'), (2, 'initial')");
        }
        proxy = TestProxy.start("pool: {mode: transaction, size: 1, checkout_timeout: 5s}\n"
                + TestProxy.metricsYaml());
        bg = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() {
        bg.shutdownNow();
        proxy.close();
    }

    private static Connection direct() throws SQLException {
        return TestCluster.directSuperuser("app");
    }

    private static long scalarLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Backends of user app that are in (or failed inside) a transaction while not running anything. */
    private static long idleInTransaction(Connection su) throws SQLException {
        return scalarLong(su, "select count(*) from pg_stat_activity where usename = 'app' "
                + "and state like 'idle in transaction%'");
    }

    private static boolean backendAlive(Connection su, int pid) throws SQLException {
        return scalarLong(su, "select count(*) from pg_stat_activity where pid = " + pid) > 0;
    }

    private static void awaitGone(Connection su, int pid, long millis, String what) throws Exception {
        Poll.untilValue(Duration.ofMillis(millis), what + ": backend " + pid + " to exit", () -> activity(su, pid),
                "(gone)"::equals);
    }

    private static String activity(Connection su, int pid) throws SQLException {
        try (Statement st = su.createStatement(); ResultSet rs = st.executeQuery(
                "select state, query from pg_stat_activity where pid = " + pid)) {
            return rs.next() ? rs.getString(1) + ": " + rs.getString(2) : "(gone)";
        }
    }

    /** Runs the 100-query check through the proxy: every transaction starts clean on the (single) backend. */
    private void poolStillClean(Connection su, int deadPid) throws Exception {
        try (Connection c = proxy.connect("ApplicationName", "killit-after")) {
            for (int i = 0; i < 100; i++) {
                try (PreparedStatement ps = c.prepareStatement("select txid_current_if_assigned(), "
                        + "(select count(*) from " + TABLE + "), (select count(*) from " + TABLE + " where id >= 100), "
                        + "pg_backend_pid(), ?::int")) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertNull(rs.getObject(1), "a transaction id was already assigned: dirty backend");
                        assertEquals(2, rs.getLong(2), "row count");
                        assertEquals(0, rs.getLong(3), "uncommitted rows of the killed client are visible");
                        assertNotEquals(deadPid, rs.getInt(4), "the killed client's backend was reused");
                        assertEquals(i, rs.getInt(5));
                    }
                }
            }
        }
        assertEquals(0, idleInTransaction(su), "idle-in-transaction sessions of user app");
    }

    @Test
    void killedClientInTransactionReleasesLocksAndRows() throws Exception {
        try (Connection su = direct()) {
            Connection a = proxy.connect("ApplicationName", "killit-victim");
            a.setAutoCommit(false);
            int pid;
            try (Statement st = a.createStatement()) {
                st.executeUpdate("insert into " + TABLE + " select g, 'uncommitted' from generate_series(100, 199) g");
                try (ResultSet rs = st.executeQuery("select pg_backend_pid() from " + TABLE
                        + " where id = 1 for update")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
            }
            // the lock is really held and the rows are really invisible before the kill
            try (Statement st = su.createStatement()) {
                st.execute("set lock_timeout = '100ms'");
                SQLException e = assertThrows(SQLException.class,
                        () -> st.executeQuery("select * from " + TABLE + " where id = 1 for update"));
                assertEquals("55P03", e.getSQLState());
                st.execute("reset lock_timeout");
            }
            assertEquals(0, scalarLong(su, "select count(*) from " + TABLE + " where id >= 100"));

            long t0 = System.nanoTime();
            a.abort(bg); // closes the socket, no Terminate, no COMMIT/ROLLBACK

            // another client gets the row lock within a couple of seconds
            try (Statement st = su.createStatement()) {
                su.setAutoCommit(false);
                st.execute("set local lock_timeout = '3s'");
                try (ResultSet rs = st.executeQuery("select owner from " + TABLE + " where id = 1 for update")) {
                    rs.next();
                    assertEquals("initial", rs.getString(1));
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 2500, "row lock released only after " + ms + " ms");
                su.rollback();
                su.setAutoCommit(true);
            }
            awaitGone(su, pid, 2000, "killed client's backend");
            assertEquals(0, scalarLong(su, "select count(*) from " + TABLE + " where id >= 100"),
                    "uncommitted rows became visible");
            // through the proxy too: the lock is free at once
            try (Connection b = proxy.connect("ApplicationName", "killit-next")) {
                b.setAutoCommit(false);
                try (Statement st = b.createStatement()) {
                    st.execute("set local lock_timeout = '2s'");
                    try (ResultSet rs = st.executeQuery("select owner from " + TABLE + " where id = 1 for update")) {
                        rs.next();
                        assertEquals("initial", rs.getString(1));
                    }
                }
                b.commit();
            }
            poolStillClean(su, pid);
        }
    }

    @Test
    void killedClientMidQueryGetsItsQueryCancelled() throws Exception {
        try (Connection su = direct()) {
            Connection a = proxy.connect("ApplicationName", "killit-sleeper");
            int pid;
            try (Statement st = a.createStatement(); ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            a.setAutoCommit(false);
            try (Statement st = a.createStatement()) {
                st.executeUpdate("insert into " + TABLE + " values (150, 'uncommitted')");
            }
            Future<?> sleeping = bg.submit(() -> {
                try (Statement st = a.createStatement()) {
                    st.executeQuery("select pg_sleep(5) /* killit */");
                }
                return null;
            });
            Poll.untilValue(Duration.ofSeconds(3), "backend " + pid + " to run the sleep", () -> activity(su, pid),
                    now -> now.startsWith("active: ") && now.contains("pg_sleep(5) /* killit */"));
            long t0 = System.nanoTime();
            a.abort(bg);
            assertThrows(java.util.concurrent.ExecutionException.class, () -> sleeping.get(5, TimeUnit.SECONDS));
            awaitGone(su, pid, 2000, "killed client's running query");
            long goneMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(goneMs < 2500, "backend gone only after " + goneMs + " ms");

            // the next client on the single-backend pool gets a clean backend at once
            long t1 = System.nanoTime();
            try (Connection b = proxy.connect("ApplicationName", "killit-next");
                 Statement st = b.createStatement();
                 ResultSet rs = st.executeQuery("select txid_current_if_assigned(), pg_backend_pid(), "
                         + "(select count(*) from " + TABLE + " where id >= 100)")) {
                rs.next();
                long ms = (System.nanoTime() - t1) / 1_000_000;
                assertNull(rs.getObject(1));
                assertNotEquals(pid, rs.getInt(2));
                assertEquals(0, rs.getLong(3));
                assertTrue(ms < 2000, "next client waited " + ms + " ms for a backend");
            }
            poolStillClean(su, pid);
        }
    }

    /** A client aborted while another waits for the only backend: the waiter gets a clean one, never the dirty one. */
    @Test
    void waiterGetsCleanBackendAfterHolderIsKilled() throws Exception {
        try (Connection su = direct()) {
            Connection a = proxy.connect("ApplicationName", "killit-holder");
            Connection b = proxy.connect("ApplicationName", "killit-waiter"); // logging in needs the backend too
            a.setAutoCommit(false);
            int pid;
            try (Statement st = a.createStatement()) {
                st.executeUpdate("insert into " + TABLE + " values (160, 'uncommitted')");
                try (ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
            }
            AtomicBoolean answered = new AtomicBoolean();
            Future<Object[]> waiting = bg.submit(() -> {
                try (Statement st = b.createStatement(); ResultSet rs = st.executeQuery(
                        "select txid_current_if_assigned(), pg_backend_pid(), "
                                + "(select count(*) from " + TABLE + " where id >= 100), "
                                + "current_setting('application_name')")) {
                    rs.next();
                    answered.set(true);
                    return new Object[] {rs.getObject(1), rs.getInt(2), rs.getLong(3), rs.getString(4)};
                }
            });
            Poll.until(Duration.ofSeconds(5), "the waiter's query to queue for the only backend", () ->
                    answered.get() || proxy.metric("pgbalancer_pool_waiting") == 1);
            assertTrue(!answered.get(), "the waiter ran although the only backend was held");
            a.abort(bg);
            Object[] r = waiting.get(4, TimeUnit.SECONDS);
            assertNull(r[0], "the waiter landed in the killed client's transaction");
            assertNotEquals(pid, r[1]);
            assertEquals(0L, r[2]);
            assertEquals("killit-waiter", r[3]);
            b.close();
            awaitGone(su, pid, 2000, "killed client's backend");
            poolStillClean(su, pid);
        }
    }

    /**
     * A client that says goodbye (Terminate) while it holds no backend must not cost the pool a connection: the
     * backend it last used is still the one the next client gets (pool size 1).
     */
    @Test
    void cleanDisconnectWhileIdleKeepsTheBackend() throws Exception {
        try (Connection su = direct()) {
            int pidA;
            Connection a = proxy.connect("ApplicationName", "killit-polite-a");
            try (Connection b = proxy.connect("ApplicationName", "killit-polite-b")) {
                try (Statement st = a.createStatement(); ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                    rs.next();
                    pidA = rs.getInt(1);
                }
                try (Statement st = b.createStatement(); ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                    rs.next();
                    assertEquals(pidA, rs.getInt(1), "pool size 1");
                }
                a.close(); // Terminate while idle; the backend now carries b's settings
                Poll.until(Duration.ofSeconds(5), "pgbalancer to have let the idle client go", () ->
                        proxy.metric("pgbalancer_clients") == 1);
                try (Statement st = b.createStatement(); ResultSet rs = st.executeQuery(
                        "select pg_backend_pid(), current_setting('application_name')")) {
                    rs.next();
                    assertEquals("killit-polite-b", rs.getString(2));
                    assertEquals(pidA, rs.getInt(1), "the backend was closed because an idle client disconnected");
                }
            }
            assertTrue(backendAlive(su, pidA));
        }
    }

    /** Many short-lived killed clients in a row: the single-backend pool never hands out a dirty backend. */
    @Test
    void repeatedKillsNeverLeakState() throws Exception {
        AtomicLong dirty = new AtomicLong();
        try (Connection su = direct()) {
            for (int round = 0; round < 10; round++) {
                Connection a = proxy.connect("ApplicationName", "killit-round-" + round);
                a.setAutoCommit(false);
                try (Statement st = a.createStatement()) {
                    st.executeUpdate("insert into " + TABLE + " values (" + (200 + round) + ", 'uncommitted')");
                    st.execute("set local statement_timeout = '1ms'");
                }
                a.abort(bg);
                try (Connection b = proxy.connect();
                     Statement st = b.createStatement();
                     ResultSet rs = st.executeQuery("select txid_current_if_assigned(), "
                             + "current_setting('statement_timeout'), "
                             + "(select count(*) from " + TABLE + " where id >= 100)")) {
                    rs.next();
                    if (rs.getObject(1) != null || !"0".equals(rs.getString(2)) || rs.getLong(3) != 0) {
                        dirty.incrementAndGet();
                    }
                }
            }
            assertEquals(0, dirty.get(), "rounds that saw the killed client's state");
            Poll.untilValue(Duration.ofSeconds(2), "no idle-in-transaction session of user app",
                    () -> idleInTransaction(su), n -> n == 0);
        }
    }
}

// purpose: 50 concurrent clients with their own application_name and search_path share 4 backends per server, reads routed to 3 replicas; every answer (settings, rows, parameters) must be the asking client's own.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class StateIsolationIT {
    private static final int POOL_SIZE = 4;
    private static final int CLIENTS = 50;
    /** Clients 0..HIKARI_FROM-1 use DriverManager with an ApplicationName startup parameter, the rest Hikari. */
    private static final int HIKARI_FROM = 35;
    private static final int ITERATIONS = 200;
    private static final String SCHEMA = "isoit_tag_";

    private static TestProxy proxy;
    private static HikariDataSource hikari;

    @BeforeAll
    static void setUp() throws Exception {
        proxy = TestProxy.startWithReplicas("pool: {mode: transaction, size: " + POOL_SIZE
                + ", checkout_timeout: 20s}\n");
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("SET ROLE app");
            for (int n = 0; n < CLIENTS; n++) {
                String s = SCHEMA + n;
                st.execute("DROP SCHEMA IF EXISTS " + s + " CASCADE");
                st.execute("CREATE SCHEMA " + s);
                st.execute("CREATE TABLE " + s + ".whoami (tag text)");
                st.execute("INSERT INTO " + s + ".whoami VALUES ('" + s + "')");
            }
        }
        Replication.awaitReplicasCaughtUp(java.time.Duration.ofSeconds(60)); // the reads run on the replicas
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(proxy.jdbcUrl("app"));
        cfg.setUsername("app");
        cfg.setPassword(TestCluster.APP_PASSWORD);
        cfg.setMaximumPoolSize(CLIENTS - HIKARI_FROM);
        cfg.setMinimumIdle(0);
        cfg.setConnectionTimeout(20_000);
        cfg.setPoolName("isoit");
        hikari = new HikariDataSource(cfg);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (hikari != null) {
            hikari.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            for (int n = 0; n < CLIENTS; n++) {
                st.execute("DROP SCHEMA IF EXISTS " + SCHEMA + n + " CASCADE");
            }
        }
    }

    private interface ClientBody {
        void run(int n, Connection c, Queue<String> mixUps) throws Exception;
    }

    /**
     * Opens client n's connection: plain DriverManager (ApplicationName as a startup parameter, some in simple query
     * mode, some with prepareThreshold 1) or Hikari (application_name set with SET by pgjdbc's setClientInfo).
     */
    private static Connection open(int n) throws SQLException {
        Connection c;
        if (n < HIKARI_FROM) {
            String mode = n % 3 == 0 ? "simple" : "extended";
            c = proxy.connect("ApplicationName", appName(n), "preferQueryMode", mode,
                    "prepareThreshold", n % 2 == 0 ? "1" : "5");
        } else {
            c = hikari.getConnection();
            c.setClientInfo("ApplicationName", appName(n));
        }
        try (Statement st = c.createStatement()) {
            st.execute("SET search_path TO " + SCHEMA + n + ", public");
        }
        return c;
    }

    private static String appName(int n) {
        return "isoit-client-" + n;
    }

    private static List<String> runClients(ClientBody body) throws Exception {
        Queue<String> mixUps = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        CyclicBarrier ready = new CyclicBarrier(CLIENTS);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < CLIENTS; t++) {
                int n = t;
                futures.add(pool.submit(() -> {
                    try (Connection c = open(n)) {
                        ready.await(30, TimeUnit.SECONDS);
                        body.run(n, c, mixUps);
                        // leave the Hikari connection as Hikari's other users would expect it
                        if (n >= HIKARI_FROM) {
                            try (Statement st = c.createStatement()) {
                                st.execute("RESET search_path");
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(80, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return new ArrayList<>(mixUps);
    }

    private static void check(Queue<String> mixUps, int n, String what, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            mixUps.add("client " + n + " " + what + ": expected " + expected + ", got " + actual);
        }
    }

    @Test
    void settingsAndSearchPathFollowEachClient() throws Exception {
        AtomicLong queries = new AtomicLong();
        AtomicLong onReplicas = new AtomicLong();
        Set<Integer> backends = ConcurrentHashMap.newKeySet();
        List<String> mixUps = runClients((n, c, bad) -> {
            String expectedPath = SCHEMA + n + ", public";
            String sql = "select current_setting('application_name'), current_setting('search_path'), "
                    + "(select tag from whoami), %s::int, pg_backend_pid(), pg_is_in_recovery()";
            try (PreparedStatement ps = c.prepareStatement(String.format(sql, "?"));
                 Statement st = c.createStatement()) {
                for (int i = 0; i < ITERATIONS; i++) {
                    int param = n * 100_000 + i;
                    ResultSet rs;
                    if (i % 2 == 0) {
                        ps.setInt(1, param);
                        rs = ps.executeQuery();
                    } else {
                        rs = st.executeQuery(String.format(sql, Integer.toString(param)));
                    }
                    try (rs) {
                        if (!rs.next()) {
                            bad.add("client " + n + " got no row");
                            continue;
                        }
                        check(bad, n, "application_name", appName(n), rs.getString(1));
                        check(bad, n, "search_path", expectedPath, rs.getString(2));
                        check(bad, n, "whoami", SCHEMA + n, rs.getString(3));
                        check(bad, n, "parameter", param, rs.getInt(4));
                        backends.add(rs.getInt(5));
                        if (rs.getBoolean(6)) {
                            onReplicas.incrementAndGet();
                        }
                        if (rs.next()) {
                            bad.add("client " + n + " got an extra row");
                        }
                    }
                    queries.incrementAndGet();
                }
            }
        });
        assertEquals(List.of(), mixUps.subList(0, Math.min(20, mixUps.size())), mixUps.size() + " mix-ups");
        assertEquals((long) CLIENTS * ITERATIONS, queries.get());
        // nothing here fails or breaks a connection, so the pool's backends should live through the whole run
        // reads are routed: every one ran on a replica (pgjdbc's leading Closes of evicted statements included)
        assertEquals(queries.get(), onReplicas.get(), "reads that ran on replicas: " + onReplicas + " of "
                + queries);
        int servers = 1 + TestCluster.get().replicaPorts().size();
        assertTrue(backends.size() <= POOL_SIZE * servers, "backends were replaced during the run (pool size "
                + POOL_SIZE + " per server), pids seen: " + backends);
    }

    @Test
    void answersNeverGoToAnotherClient() throws Exception {
        AtomicInteger rowsChecked = new AtomicInteger();
        List<String> mixUps = runClients((n, c, bad) -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select ?::text || ':' || g, (select tag from whoami) from generate_series(1, ?) g");
                 Statement st = c.createStatement()) {
                for (int i = 0; i < ITERATIONS; i++) {
                    String id = "q-" + n + "-" + i + "-" + Long.toHexString(System.nanoTime());
                    int rows = 1 + (n * 7 + i * 13) % 50;
                    ResultSet rs;
                    if (i % 3 == 0) {
                        rs = st.executeQuery("select '" + id + "' || ':' || g, (select tag from whoami) "
                                + "from generate_series(1, " + rows + ") g");
                    } else {
                        ps.setString(1, id);
                        ps.setInt(2, rows);
                        rs = ps.executeQuery();
                    }
                    try (rs) {
                        int got = 0;
                        while (rs.next()) {
                            got++;
                            check(bad, n, "row " + got, id + ":" + got, rs.getString(1));
                            check(bad, n, "whoami", SCHEMA + n, rs.getString(2));
                        }
                        check(bad, n, "row count of " + id, rows, got);
                        rowsChecked.addAndGet(got);
                    }
                    if (i % 50 == 49) {
                        // a transaction spanning several statements keeps its rows to itself too
                        boolean auto = c.getAutoCommit();
                        c.setAutoCommit(false);
                        try (Statement tx = c.createStatement()) {
                            int pid;
                            try (ResultSet r1 = tx.executeQuery(
                                    "select pg_backend_pid(), set_config('isoit.id', '" + id + "', true)")) {
                                r1.next();
                                pid = r1.getInt(1);
                            }
                            tx.execute("select pg_sleep(0.001)");
                            try (ResultSet r2 = tx.executeQuery(
                                    "select pg_backend_pid(), current_setting('isoit.id')")) {
                                r2.next();
                                check(bad, n, "backend within a transaction", pid, r2.getInt(1));
                                check(bad, n, "transaction-local setting", id, r2.getString(2));
                            }
                        }
                        c.commit();
                        c.setAutoCommit(auto);
                    }
                }
            }
        });
        assertEquals(List.of(), mixUps.subList(0, Math.min(20, mixUps.size())), mixUps.size() + " mix-ups");
        assertTrue(rowsChecked.get() > CLIENTS * ITERATIONS, "rows checked: " + rowsChecked.get());
    }
}

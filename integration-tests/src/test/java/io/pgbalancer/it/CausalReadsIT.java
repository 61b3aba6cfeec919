// purpose: causal reads with reads routed over 3 replicas: a client's own writes (and its user's) are always seen, replicas still serve the reads, paused replay falls back to the primary.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CausalReadsIT {
    static final int ITERATIONS = 10_000;

    private static TestProxy proxy;

    @BeforeAll
    static void setUp() throws Exception {
        proxy = TestProxy.startWithReplicas("pool: {mode: transaction, size: 8, checkout_timeout: 20s}\n"
                + TestProxy.metricsYaml());
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("SET ROLE app");
            st.execute("DROP TABLE IF EXISTS causal_it");
            st.execute("CREATE TABLE causal_it (id bigint PRIMARY KEY, who text)");
        }
        Replication.awaitReplicasCaughtUp(java.time.Duration.ofSeconds(60));
    }

    @AfterAll
    static void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** Reads that ran on replicas, by the proxy's own count. */
    private static double replicaReads() throws Exception {
        return proxy.metric("pgbalancer_reads_total", "target", "replica");
    }

    @Test
    void pgjdbcInsertThenReadOnOneConnectionNeverMissesItsRow() throws Exception {
        double before = replicaReads();
        int stale = 0;
        int onReplica = 0;
        List<Integer> replicaPorts = TestCluster.get().replicaPorts();
        try (Connection c = proxy.connect();
             PreparedStatement ins = c.prepareStatement("INSERT INTO causal_it VALUES (?, 'jdbc')");
             PreparedStatement sel = c.prepareStatement(
                     "SELECT count(*), inet_server_port() FROM causal_it WHERE id = ?")) {
            for (int i = 0; i < ITERATIONS; i++) {
                ins.setLong(1, 1_000_000L + i);
                ins.executeUpdate();
                sel.setLong(1, 1_000_000L + i);
                try (ResultSet rs = sel.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) != 1) {
                        stale++;
                    }
                    if (replicaPorts.contains(rs.getInt(2))) {
                        onReplica++;
                    }
                }
            }
        }
        double served = replicaReads() - before;
        System.out.printf("pgjdbc insert-then-read: %d iterations, %d stale, %d reads on replicas (metric %.0f)%n",
                ITERATIONS, stale, onReplica, served);
        assertEquals(0, stale, "reads that missed the client's own committed row");
        assertTrue(onReplica > ITERATIONS / 2, "replicas served only " + onReplica + " of " + ITERATIONS + " reads");
    }

    @Test
    void userScopeWriteOnOneHikariConnectionIsSeenByTheNextOnAnother() throws Exception {
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(proxy.jdbcUrl("app"));
        cfg.setUsername("app");
        cfg.setPassword(TestCluster.APP_PASSWORD);
        cfg.setMaximumPoolSize(2);
        cfg.setMinimumIdle(2);
        int stale = 0;
        int onReplica = 0;
        List<Integer> replicaPorts = TestCluster.get().replicaPorts();
        try (HikariDataSource ds = new HikariDataSource(cfg);
             Connection writer = ds.getConnection(); Connection reader = ds.getConnection();
             PreparedStatement ins = writer.prepareStatement("INSERT INTO causal_it VALUES (?, 'hikari')");
             PreparedStatement sel = reader.prepareStatement(
                     "SELECT count(*), inet_server_port() FROM causal_it WHERE id = ?")) {
            for (int i = 0; i < 2_000; i++) {
                ins.setLong(1, 2_000_000L + i);
                ins.executeUpdate();
                sel.setLong(1, 2_000_000L + i);
                try (ResultSet rs = sel.executeQuery()) {
                    rs.next();
                    stale += rs.getLong(1) == 1 ? 0 : 1;
                    onReplica += replicaPorts.contains(rs.getInt(2)) ? 1 : 0;
                }
            }
        }
        System.out.printf("user scope over two Hikari connections: 2000 iterations, %d stale, %d on replicas%n",
                stale, onReplica);
        assertEquals(0, stale, "reads on the second connection that missed the first one's committed row");
        assertTrue(onReplica > 1_000, "replicas served only " + onReplica + " of 2000 reads");
    }

    @Test
    void pausedReplayFallsBackToThePrimaryAndOnlyForReadsThatNeedTheWrite() throws Exception {
        List<Integer> replicas = TestCluster.get().replicaPorts();
        try (TestProxy session = TestProxy.startWithReplicas("routing: {consistency: session, causal_wait: 50ms}\n"
                + "pool: {mode: transaction, size: 4}\n");
             Connection writer = session.connect(); Connection bystander = session.connect()) {
            pauseReplay(true);
            try {
                try (Statement st = writer.createStatement()) {
                    st.executeUpdate("INSERT INTO causal_it VALUES (3000000, 'paused')");
                    long t0 = System.nanoTime();
                    try (ResultSet rs = st.executeQuery(
                            "SELECT count(*), inet_server_port() FROM causal_it WHERE id = 3000000")) {
                        rs.next();
                        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
                        assertEquals(1, rs.getLong(1), "the read after the write must see it");
                        assertEquals(TestCluster.get().primaryPort(), rs.getInt(2),
                                "with replay paused everywhere the read must run on the primary");
                        assertTrue(waitedMs >= 40, "the read should have waited causal_wait first, took " + waitedMs
                                + " ms");
                    }
                }
                try (Statement st = bystander.createStatement();
                     ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    assertTrue(replicas.contains(rs.getInt(1)),
                            "a session with no writes still reads on replicas in session scope");
                }
            } finally {
                pauseReplay(false);
            }
            Poll.until(java.time.Duration.ofSeconds(20), "after replay resumed the writer's reads return to replicas", () -> {
                try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT count(*), inet_server_port() FROM causal_it WHERE id = 3000000")) {
                    rs.next();
                    return rs.getLong(1) == 1 && replicas.contains(rs.getInt(2));
                }
            });
        }
    }

    static void pauseReplay(boolean pause) throws SQLException {
        for (int port : TestCluster.get().replicaPorts()) {
            try (Connection c = DriverManager.getConnection(TestCluster.get().jdbcUrl(port, "app"), "postgres", "");
                 Statement st = c.createStatement()) {
                st.execute(pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()");
            }
        }
    }
}

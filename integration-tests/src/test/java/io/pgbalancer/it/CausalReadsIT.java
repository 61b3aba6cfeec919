// purpose: causal reads with reads routed over 3 replicas: a client's own writes (and its user's) are always seen, replicas still serve the reads, paused replay falls back to the primary.
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
        proxy = TestProxy.startWithReplicas("routing: {causal_wait: 50ms}\n"
                + "pool: {mode: transaction, size: 8, checkout_timeout: 20s}\n"
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
        assertTrue(proxy.metric("pgbalancer_causal_wait_seconds_count") > 0, "reads waited for replay: counted");
        assertTrue(proxy.metric("pgbalancer_reads_total", "reason", "after_wait") > 0);
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
        Replication.pauseReplayEverywhere(pause);
    }

    @Test
    void aCommitPositionCarriedToAnotherPgbalancerMakesItsReadsFresh() throws Exception {
        try (TestProxy other = TestProxy.startWithReplicas("routing: {consistency: session}\n"
                + "pool: {mode: transaction, size: 4}\n");
             Connection writer = proxy.connect(); Connection reader = other.connect()) {
            pauseReplay(true);
            try {
                String token;
                try (Statement st = writer.createStatement()) {
                    st.executeUpdate("INSERT INTO causal_it VALUES (4000000, 'token')");
                    try (ResultSet rs = st.executeQuery("SHOW pgbalancer.commit_lsn")) {
                        rs.next();
                        token = rs.getString(1);
                    }
                }
                assertTrue(token.matches("[0-9A-F]+/[0-9A-F]+") && !token.equals("0/0"), token);
                String read = "SELECT count(*), inet_server_port() FROM causal_it WHERE id = 4000000";
                try (Statement st = reader.createStatement()) {
                    try (ResultSet rs = st.executeQuery(read)) {
                        rs.next();
                        assertEquals(0, rs.getLong(1), "without the token the other pgbalancer reads a paused"
                                + " replica (this is what the token is for)");
                    }
                    st.execute("SET pgbalancer.min_lsn = '" + token + "'");
                    try (ResultSet rs = st.executeQuery("SHOW pgbalancer.min_lsn")) {
                        rs.next();
                        assertEquals(token, rs.getString(1));
                    }
                    try (ResultSet rs = st.executeQuery(read)) {
                        rs.next();
                        assertEquals(1, rs.getLong(1), "with the token the read must see the write");
                        assertEquals(TestCluster.get().primaryPort(), rs.getInt(2), "no replica has it yet");
                    }
                }
            } finally {
                pauseReplay(false);
            }
            try (Statement st = reader.createStatement()) {
                Poll.until(java.time.Duration.ofSeconds(20), "with the token, reads return to caught-up replicas",
                        () -> {
                            try (ResultSet rs = st.executeQuery(
                                    "SELECT count(*), inet_server_port() FROM causal_it WHERE id = 4000000")) {
                                rs.next();
                                return rs.getLong(1) == 1
                                        && TestCluster.get().replicaPorts().contains(rs.getInt(2));
                            }
                        });
            }
        }
    }

    @Test
    void withPrimaryReadsNeverAReadNoReplicaCanServeFailsNamingThePosition() throws Exception {
        try (TestProxy strict = TestProxy.startWithReplicas("routing: {consistency: session, causal_wait: 20ms,"
                + " primary_reads: never}\npool: {mode: transaction, size: 4}\n");
             Connection c = strict.connect(); Statement st = c.createStatement()) {
            pauseReplay(true);
            try {
                st.executeUpdate("INSERT INTO causal_it VALUES (5000000, 'never')");
                SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> st.executeQuery("SELECT count(*) FROM causal_it WHERE id = 5000000"));
                assertEquals("08006", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().matches("(?s).*no replica replayed WAL position [0-9A-F]+/[0-9A-F]+ within"
                        + " routing.causal_wait \\(20 ms\\); the closest, 127.0.0.1:[0-9]+, is at [0-9A-F]+/[0-9A-F]+,"
                        + " [0-9]+ bytes behind, and routing.primary_reads is never.*"), e.getMessage());
            } finally {
                pauseReplay(false);
            }
        }
    }

    @Test
    void aReplicaTheMonitorCannotReachIsBannedAndNeverTriedWhileTheOthersServe() throws Exception {
        int nowhere = TestProxy.freePort();
        String bogus = "127.0.0.1:" + nowhere;
        try (TestProxy p = TestProxy.start("backends:\n  - {host: 127.0.0.1, port: ${PRIMARY_PORT}, role: primary}\n"
                + "  - {host: 127.0.0.1, port: " + nowhere + ", role: replica}\n"
                + "  - {host: 127.0.0.1, port: " + TestCluster.get().replicaPorts().get(0) + ", role: replica}\n"
                + "monitor: {interval: 200ms, connect_timeout: 1s}\npool: {mode: transaction, size: 4}\n"
                + TestProxy.metricsYaml())) {
            Poll.until(java.time.Duration.ofSeconds(20), "the monitor sees the unreachable replica down",
                    () -> p.metric("pgbalancer_backend_banned", "backend", bogus) == 1
                            && p.metric("pgbalancer_backend_up", "backend", "127.0.0.1:"
                            + TestCluster.get().replicaPorts().get(0)) == 1);
            assertEquals(0.0, p.metric("pgbalancer_backend_up", "backend", bogus));
            try (Connection c = p.connect(); Statement st = c.createStatement()) {
                for (int i = 0; i < 30; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        assertEquals((int) TestCluster.get().replicaPorts().get(0), rs.getInt(1));
                    }
                }
            }
            assertEquals(0.0, p.metric("pgbalancer_backend_transactions_total", "backend", bogus),
                    "no read was even tried on the banned replica");
        }
    }

    @Test
    void aCommitMadeAsynchronousWithSetLocalIsStillSeenByTheNextRead() throws Exception {
        int stale = 0;
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            for (int i = 0; i < 300; i++) {
                c.setAutoCommit(false);
                st.execute("SET LOCAL synchronous_commit = off");
                st.executeUpdate("INSERT INTO causal_it VALUES (" + (6_000_000 + i) + ", 'async')");
                c.commit();
                c.setAutoCommit(true);
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM causal_it WHERE id = " + (6_000_000 + i))) {
                    rs.next();
                    stale += rs.getLong(1) == 1 ? 0 : 1;
                }
            }
        }
        assertEquals(0, stale, "reads that missed an asynchronous commit of the same connection");
    }
}

// purpose: reads spread over the 3 replicas as routing.balance and weights say, measured on the servers themselves.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two persistent pgjdbc connections (autocommit, one thread each) run 5,000 reads each through a proxy in front of the
 * primary and the 3 replicas. Where each read ran is measured twice, both times from PostgreSQL itself:
 * {@code inet_server_port()} in every result, and the {@code xact_commit} delta of the test's own database in each
 * server's {@code pg_stat_database} (read directly as postgres). The proxy is shut down before the counters are read:
 * its backends then exit, which flushes their statistics (PostgreSQL otherwise reports them up to 10 s late).
 */
class RoutingDistributionIT {
    /** A database of its own: its counters move only with this class's traffic. */
    private static final String DB = "routing_distribution_it";
    private static final int CLIENTS = 2;
    private static final int READS_PER_CLIENT = 5_000;
    private static final int READS = CLIENTS * READS_PER_CLIENT;
    private static final String POOL = "pool: {mode: transaction, size: 4, checkout_timeout: 5s}\n";

    @BeforeAll
    static void createDatabase() throws Exception {
        try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database if exists " + DB + " with (force)");
            st.execute("create database " + DB + " owner app");
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
    }

    @Test
    void leastOutstandingSplitsReadsEvenlyOverTheReplicas() throws Exception {
        Distribution d = measure(POOL + "routing: {balance: least-outstanding}\n");
        d.assertShares(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, 0.03);
    }

    @Test
    void roundRobinSplitsReadsEvenlyOverTheReplicas() throws Exception {
        Distribution d = measure(POOL + "routing: {balance: round-robin}\n");
        d.assertShares(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, 0.03);
    }

    @Test
    void randomSplitsReadsRoughlyEvenlyOverTheReplicas() throws Exception {
        Distribution d = measure(POOL + "routing: {balance: random}\n");
        d.assertShares(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, 0.06);
    }

    @Test
    void roundRobinFollowsWeightsOneOneTwo() throws Exception {
        Distribution d = measure(POOL + "routing: {balance: round-robin}\n", "weight: 1", "weight: 1", "weight: 2");
        d.assertShares(new double[] {0.25, 0.25, 0.5}, 0.05);
    }

    // ------------------------------------------------------------------------------------------------ measuring

    /** Reads per server port: as the results said, and as each server's xact_commit counter moved. */
    record Distribution(String config, Map<Integer, Integer> byResult, Map<Integer, Long> byCounter) {
        void assertShares(double[] expected, double tolerance) {
            LocalCluster cl = TestCluster.get();
            List<Integer> replicas = cl.replicaPorts();
            String what = config.trim().replace('\n', ' ') + ": " + this.describe();
            System.out.println("[routing-distribution] " + what);
            int total = byResult.values().stream().mapToInt(Integer::intValue).sum();
            assertEquals(READS, total, "every read returned its server's port; " + what);
            assertEquals(0, byResult.getOrDefault(cl.primaryPort(), 0), "reads that ran on the primary; " + what);
            long primaryCommits = byCounter.getOrDefault(cl.primaryPort(), 0L);
            assertTrue(primaryCommits <= READS / 200, "the primary committed " + primaryCommits
                    + " transactions in " + DB + " (expected ~0: only the clients' logins); " + what);
            for (int i = 0; i < replicas.size(); i++) {
                int port = replicas.get(i);
                double byResults = byResult.getOrDefault(port, 0) / (double) READS;
                double byCounters = byCounter.getOrDefault(port, 0L) / (double) READS;
                assertTrue(Math.abs(byResults - expected[i]) <= tolerance, String.format(
                        "replica%d (%d) ran %.2f%% of the reads by inet_server_port(), expected %.2f%% ± %.0f%%; %s",
                        i, port, 100 * byResults, 100 * expected[i], 100 * tolerance, what));
                assertTrue(Math.abs(byCounters - expected[i]) <= tolerance, String.format(
                        "replica%d (%d) committed %.2f%% of the reads by pg_stat_database, expected %.2f%% ± %.0f%%;"
                                + " %s", i, port, 100 * byCounters, 100 * expected[i], 100 * tolerance, what));
                // cross-check: the server's own counter agrees with the results it sent (the proxy adds a SET or
                // two per new backend connection, nothing per read)
                long extra = byCounter.getOrDefault(port, 0L) - byResult.getOrDefault(port, 0);
                assertTrue(extra >= 0 && extra <= 20, "replica" + i + " (" + port + "): xact_commit delta "
                        + byCounter.get(port) + " vs " + byResult.get(port) + " results from it; " + what);
            }
        }

        String describe() {
            LocalCluster cl = TestCluster.get();
            StringBuilder s = new StringBuilder();
            s.append(String.format("primary %d results / %d commits", byResult.getOrDefault(cl.primaryPort(), 0),
                    byCounter.getOrDefault(cl.primaryPort(), 0L)));
            List<Integer> replicas = cl.replicaPorts();
            for (int i = 0; i < replicas.size(); i++) {
                int port = replicas.get(i);
                s.append(String.format("; replica%d %d results (%.2f%%) / %d commits (%.2f%%)", i,
                        byResult.getOrDefault(port, 0), 100.0 * byResult.getOrDefault(port, 0) / READS,
                        byCounter.getOrDefault(port, 0L), 100.0 * byCounter.getOrDefault(port, 0L) / READS));
            }
            return s.toString();
        }
    }

    private static Distribution measure(String yaml, String... replicaOptions) throws Exception {
        Map<Integer, Long> before = commits();
        Map<Integer, Integer> byResult = new HashMap<>();
        long t0 = System.nanoTime();
        try (TestProxy proxy = TestProxy.startWithReplicas(yaml, replicaOptions)) {
            List<Connection> connections = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    connections.add(connect(proxy));
                }
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Map<Integer, Integer>>> results = new ArrayList<>();
                for (Connection c : connections) {
                    results.add(pool.submit(() -> {
                        Map<Integer, Integer> ports = new HashMap<>();
                        go.await();
                        try (Statement st = c.createStatement()) {
                            for (int n = 0; n < READS_PER_CLIENT; n++) {
                                try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                                    rs.next();
                                    ports.merge(rs.getInt(1), 1, Integer::sum);
                                }
                            }
                        }
                        return ports;
                    }));
                }
                go.countDown();
                for (Future<Map<Integer, Integer>> f : results) {
                    f.get(60, TimeUnit.SECONDS).forEach((port, n) -> byResult.merge(port, n, Integer::sum));
                }
            } finally {
                pool.shutdownNow();
                for (Connection c : connections) {
                    c.close();
                }
            }
        } // shutting the proxy down closes its backends, which makes them flush their statistics
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Map<Integer, Long> delta = awaitCommitDeltas(before, byResult);
        System.out.printf("[routing-distribution] %d reads in %d ms%n", READS, ms);
        return new Distribution(yaml, byResult, delta);
    }

    private static Connection connect(TestProxy proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    /**
     * xact_commit deltas since {@code before}, once the proxy's backends have exited (and so flushed their statistics)
     * and every server shows at least the reads its results claimed.
     */
    private static Map<Integer, Long> awaitCommitDeltas(Map<Integer, Long> before, Map<Integer, Integer> byResult)
            throws Exception {
        awaitClientBackendsGone(DB);
        return Poll.untilValue(Duration.ofSeconds(20), "pg_stat_database.xact_commit of " + DB
                + " to count at least the reads each server's results claimed " + byResult, () -> {
                    Map<Integer, Long> delta = new HashMap<>();
                    commits().forEach((port, n) -> delta.put(port, n - before.getOrDefault(port, 0L)));
                    return delta;
                }, delta -> byResult.entrySet().stream()
                        .allMatch(e -> delta.getOrDefault(e.getKey(), 0L) >= e.getValue()));
    }

    /** xact_commit of {@link #DB} on every server, by port. */
    private static Map<Integer, Long> commits() throws SQLException {
        Map<Integer, Long> out = new HashMap<>();
        counters(DB).forEach((port, c) -> out.put(port, c.commits()));
        return out;
    }

    /** One server's pg_stat_database row for one database. */
    record Counters(long commits, long rollbacks, long inserted, long updated, long deleted) {
        Counters minus(Counters o) {
            return o == null ? this : new Counters(commits - o.commits, rollbacks - o.rollbacks,
                    inserted - o.inserted, updated - o.updated, deleted - o.deleted);
        }
    }

    /**
     * The pg_stat_database counters of {@code db} on the primary and every replica, by port, each read directly on
     * its own server as postgres (from database postgres, so reading them does not count in {@code db}).
     */
    static Map<Integer, Counters> counters(String db) throws SQLException {
        LocalCluster cl = TestCluster.get();
        Map<Integer, Counters> out = new HashMap<>();
        for (int port : servers()) {
            try (Connection c = DriverManager.getConnection(cl.jdbcUrl(port, "postgres"), "postgres", "");
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select xact_commit, xact_rollback, tup_inserted, tup_updated,"
                         + " tup_deleted from pg_stat_database where datname = '" + db + "'")) {
                out.put(port, rs.next() ? new Counters(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                        rs.getLong(5)) : new Counters(0, 0, 0, 0, 0));
            }
        }
        return out;
    }

    /**
     * Counter deltas since {@code before}, once no client backend is connected to {@code db} on any server and
     * {@code complete} holds. Servers flush a backend's statistics when it exits (before it leaves pg_stat_activity),
     * otherwise about once a second while busy or 10 s after going idle: shut the proxy down first so its backends
     * exit. Fails after 20 s if either never happens.
     */
    static Map<Integer, Counters> settledDeltas(String db, Map<Integer, Counters> before,
                                                java.util.function.Predicate<Map<Integer, Counters>> complete)
            throws Exception {
        awaitClientBackendsGone(db);
        return Poll.untilValue(Duration.ofSeconds(20), "the pg_stat_database deltas of " + db + " to be complete",
                () -> {
                    Map<Integer, Counters> delta = new HashMap<>();
                    counters(db).forEach((port, c) -> delta.put(port, c.minus(before.get(port))));
                    return delta;
                }, complete);
    }

    /**
     * Waits until no client backend is connected to {@code db} on the primary or any replica: every one has exited,
     * and flushed its statistics on the way out.
     */
    static void awaitClientBackendsGone(String db) throws Exception {
        Poll.untilValue(Duration.ofSeconds(20), "every client backend connected to " + db
                + " to exit, on each server (backends by port)", () -> clientBackends(db),
                byPort -> byPort.values().stream().allMatch(n -> n == 0));
    }

    /** Client backends connected to {@code db}, by server port. */
    private static Map<Integer, Long> clientBackends(String db) throws SQLException {
        Map<Integer, Long> out = new HashMap<>();
        for (int port : servers()) {
            try (Connection c = DriverManager.getConnection(TestCluster.get().jdbcUrl(port, "postgres"), "postgres",
                    ""); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from"
                    + " pg_stat_activity where backend_type = 'client backend' and datname = '" + db + "'")) {
                rs.next();
                out.put(port, rs.getLong(1));
            }
        }
        return out;
    }

    /** The primary's port, then the replicas'. */
    private static List<Integer> servers() {
        LocalCluster cl = TestCluster.get();
        List<Integer> ports = new ArrayList<>(cl.replicaPorts());
        ports.add(0, cl.primaryPort());
        return ports;
    }
}

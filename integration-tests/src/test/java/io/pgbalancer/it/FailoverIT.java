// purpose: failover with real servers and role auto: the primary stops, a replica is promoted while clients write and
// read; logins and reads go on without a primary, writes wait and then follow the new primary, nothing committed is lost.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FailoverIT {
    private static final int WRITERS = 4;
    private static final int READERS = 4;
    private static LocalCluster cluster;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @BeforeAll
    static void cluster() {
        cluster = LocalCluster.builder().replicas(2)
                .user("app", TestCluster.APP_PASSWORD, "scram-sha-256")
                .database("app")
                .log(line -> System.out.println("[failover cluster] " + line))
                .start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String config(int port) {
        StringBuilder y = new StringBuilder("listen: {host: 127.0.0.1, port: " + port + "}\n"
                + "auth:\n  method: scram-sha-256\n  users:\n    - {name: app, password: \"${APP_PASSWORD}\"}\n"
                + "pool: {size: 8, checkout_timeout: 20s}\n"
                + "shutdown: {grace_period: 2s}\n"
                + "backends:\n  - {host: 127.0.0.1, port: " + cluster.primaryPort() + ", role: auto}\n");
        for (int p : cluster.replicaPorts()) {
            y.append("  - {host: 127.0.0.1, port: ").append(p).append(", role: auto}\n");
        }
        return y.toString();
    }

    private static Connection connect(TestProxy proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        p.setProperty("connectTimeout", "30");
        return DriverManager.getConnection(proxy.jdbcUrl("app"), p);
    }

    private static long checksum(int writer, int n) {
        CRC32 crc = new CRC32();
        crc.update((writer + ":" + n).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return crc.getValue();
    }

    @Test
    void writesFollowThePromotedReplicaAndNothingCommittedIsLost() throws Exception {
        try (Connection c = DriverManager.getConnection(cluster.jdbcUrl(cluster.primaryPort(), "app"), "postgres", "");
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE failover_rows (writer int, n int, checksum bigint, PRIMARY KEY (writer, n))");
            st.execute("GRANT ALL ON failover_rows TO app");
        }
        TestProxy proxy = TestProxy.startFrom(TestProxy.temporaryFile(config(TestProxy.freePort())));
        try {
            AtomicBoolean running = new AtomicBoolean(true);
            Map<Integer, List<Integer>> committed = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<String> writeErrors = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> readErrors = new ConcurrentLinkedQueue<>();
            AtomicLong lastWriteBeforeStop = new AtomicLong();
            AtomicLong firstWriteAfterStop = new AtomicLong();
            AtomicLong stoppedAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong reads = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS);
            List<Future<?>> clients = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                committed.put(writer, java.util.Collections.synchronizedList(new ArrayList<>()));
                clients.add(pool.submit(() -> {
                    int n = 0;
                    Connection conn = null;
                    while (running.get()) {
                        n++;
                        try {
                            if (conn == null) {
                                conn = connect(proxy); // as a pool would: a broken connection is replaced
                            }
                            try (PreparedStatement ins = conn.prepareStatement(
                                    "INSERT INTO failover_rows VALUES (?, ?, ?)")) {
                                ins.setInt(1, writer);
                                ins.setInt(2, n);
                                ins.setLong(3, checksum(writer, n));
                                ins.executeUpdate();
                            }
                            committed.get(writer).add(n);
                            long now = System.nanoTime();
                            if (now - stoppedAt.get() < 0) {
                                lastWriteBeforeStop.accumulateAndGet(now, Math::max);
                            } else { // the old primary is down: this one committed on the promoted replica
                                firstWriteAfterStop.compareAndSet(0, now);
                            }
                        } catch (SQLException e) {
                            writeErrors.add(e.getSQLState() + " " + e.getMessage());
                            closeQuietly(conn);
                            conn = null;
                        }
                    }
                    closeQuietly(conn);
                    return null;
                }));
            }
            for (int r = 0; r < READERS; r++) {
                clients.add(pool.submit(() -> {
                    Connection conn = null;
                    while (running.get()) {
                        try {
                            if (conn == null) {
                                conn = connect(proxy);
                            }
                            try (Statement st = conn.createStatement();
                                 ResultSet rs = st.executeQuery("SELECT count(*) FROM failover_rows")) {
                                rs.next();
                                reads.incrementAndGet();
                            }
                        } catch (SQLException e) {
                            readErrors.add(e.getSQLState() + " " + e.getMessage());
                            closeQuietly(conn);
                            conn = null;
                        }
                    }
                    closeQuietly(conn);
                    return null;
                }));
            }
            Pgbench bench = new Pgbench(proxy, dir);
            bench.start();
            Poll.until(Duration.ofSeconds(30), "writes before the failover",
                    () -> committed.values().stream().mapToInt(List::size).sum() > 200);

            cluster.stopPrimary(); // commits may complete during its fast shutdown: they count as before the stop
            stoppedAt.set(System.nanoTime());
            long readsAtStop = reads.get();
            // no primary now: a new client logs in and reads on a replica
            try (Connection fresh = connect(proxy); Statement st = fresh.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1), "with no primary, a read runs on a replica");
            }
            Poll.until(Duration.ofSeconds(20), "reads to go on without a primary",
                    () -> reads.get() > readsAtStop + 50);
            long promotedAt = System.nanoTime(); // pg_ctl promote starts; the server takes writes before it returns
            cluster.promoteReplica(0);
            Poll.until(Duration.ofSeconds(20), "writes to resume on the promoted replica",
                    () -> firstWriteAfterStop.get() != 0);
            long resumedMillis = TimeUnit.NANOSECONDS.toMillis(firstWriteAfterStop.get() - promotedAt);
            long outageMillis = TimeUnit.NANOSECONDS.toMillis(firstWriteAfterStop.get() - lastWriteBeforeStop.get());
            int before = committed.values().stream().mapToInt(List::size).sum();
            long promoted = System.nanoTime();
            Poll.until(Duration.ofSeconds(60), "a clean pgbench run of each kind after the promotion",
                    () -> bench.cleanSince(promoted, "tpcb-like") && bench.cleanSince(promoted, "select-only"));
            bench.stop();
            Poll.until(Duration.ofSeconds(20), "more writes after the failover",
                    () -> committed.values().stream().mapToInt(List::size).sum() > before + 200);
            running.set(false);
            for (Future<?> f : clients) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            System.out.printf("failover: writes resumed %d ms after pg_ctl promote started; write outage seen by clients"
                    + " %d ms (last write before the stop to first write after); %d write errors, %d read errors%n",
                    resumedMillis, outageMillis, writeErrors.size(), readErrors.size());
            writeErrors.forEach(e -> System.out.println("  write error: " + e));
            System.out.println("  pgbench runs: " + bench.summary());
            readErrors.forEach(e -> System.out.println("  read error: " + e));

            for (String e : writeErrors) {
                assertTrue(!e.startsWith("25006"), "a write reached a server in recovery: " + e);
            }
            assertTrue(readErrors.size() <= READERS, "readers lose at most their connection to the stopped primary"
                    + " once: " + readErrors);
            int newPrimary = cluster.replicaPorts().get(0);
            try (Connection c = DriverManager.getConnection(cluster.jdbcUrl(newPrimary, "app"), "postgres", "");
                 Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    assertEquals(false, rs.getBoolean(1));
                }
                // pgbench's tpcb-like transactions are all or nothing: the balances agree with the history
                try (ResultSet rs = st.executeQuery("SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
                        + " (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches),"
                        + " (SELECT coalesce(sum(delta), 0) FROM pgbench_history)")) {
                    rs.next();
                    long history = rs.getLong(4);
                    assertEquals(history, rs.getLong(1), "accounts against history");
                    assertEquals(history, rs.getLong(2), "tellers against history");
                    assertEquals(history, rs.getLong(3), "branches against history");
                }
                for (Map.Entry<Integer, List<Integer>> e : committed.entrySet()) {
                    List<Integer> rows;
                    synchronized (e.getValue()) {
                        rows = new ArrayList<>(e.getValue());
                    }
                    try (ResultSet rs = st.executeQuery("SELECT n, checksum FROM failover_rows WHERE writer = "
                            + e.getKey())) {
                        Map<Integer, Long> found = new java.util.HashMap<>();
                        while (rs.next()) {
                            found.put(rs.getInt(1), rs.getLong(2));
                        }
                        for (int n : rows) {
                            assertEquals(Long.valueOf(checksum(e.getKey(), n)), found.get(n),
                                    "writer " + e.getKey() + " row " + n + " was committed and must be there");
                        }
                    }
                }
            }
        } finally {
            proxy.close();
        }
    }

    /**
     * pgbench through pgbalancer, run after run (tpcb-like, then select-only, 4 clients for 1 s each) until stopped:
     * a run whose client loses its connection aborts (pgbench does not reconnect); the next run starts afresh, as a
     * batch job would.
     */
    private static final class Pgbench {
        private record Run(String kind, long endedNanos, boolean clean) {
        }

        private final TestProxy proxy;
        private final java.nio.file.Path dir;
        private final java.nio.file.Path binary;
        private final List<Run> runs = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean running = new AtomicBoolean(true);
        private Thread thread;

        Pgbench(TestProxy proxy, java.nio.file.Path dir) throws Exception {
            this.proxy = proxy;
            this.dir = dir;
            this.binary = cluster.binaries().find("pgbench").orElseThrow();
            PsqlIT.Result init = PgbenchIT.run(binary, proxy, "app", dir, "-i", "-s", "1", "-q");
            assertEquals(0, init.exit(), init.describe());
        }

        void start() {
            thread = new Thread(() -> {
                while (running.get()) {
                    run("tpcb-like");
                    run("select-only", "-S");
                }
            }, "failover-pgbench");
            thread.start();
        }

        private void run(String kind, String... extra) {
            List<String> args = new ArrayList<>(List.of("-n", "-c", "4", "-j", "2", "-T", "1"));
            args.addAll(List.of(extra));
            try {
                PsqlIT.Result r = PgbenchIT.run(binary, proxy, "app", dir, args.toArray(String[]::new));
                runs.add(new Run(kind, System.nanoTime(), r.exit() == 0
                        && r.stdout().contains("number of failed transactions: 0 (")));
            } catch (Exception e) {
                runs.add(new Run(kind, System.nanoTime(), false));
            }
        }

        /** Whether a run of {@code kind} that ended after {@code since} had no failure at all. */
        boolean cleanSince(long since, String kind) {
            synchronized (runs) {
                return runs.stream().anyMatch(r -> r.kind.equals(kind) && r.clean && r.endedNanos - since > 0);
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }

        String summary() {
            synchronized (runs) {
                long clean = runs.stream().filter(Run::clean).count();
                return runs.size() + " (" + clean + " clean, " + (runs.size() - clean) + " cut by the failover)";
            }
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // already broken
            }
        }
    }
}

// purpose: the fault matrix: real PostgreSQL servers go through each fault while pgjdbc writers, readers and pgbench
// run through pgbalancer; after each, no wrong answer, no backend idle in transaction, nothing committed lost, pools
// back at their baseline. Prints the results table (BENCHMARKS.md "Fault matrix").
package io.pgbalancer.it;

import static io.pgbalancer.it.FaultCase.millisSince;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultMatrixIT {
    static final int POOL_SIZE = 4;
    static final int WRITERS = 3;
    static final int READERS = 4;

    static LocalCluster cluster;
    static TestProxy proxy;
    static MixedLoad load;
    static FaultChecks checks;
    static PgbenchRuns pgbench;
    static final int LISTEN_PORT = TestProxy.freePort();
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().replicas(2)
                .user("app", TestCluster.APP_PASSWORD, "scram-sha-256")
                .database("app")
                .log(line -> System.out.println("[fault matrix cluster] " + line))
                .start();
        try (Connection c = java.sql.DriverManager.getConnection(cluster.jdbcUrl(cluster.primaryPort(), "app"),
                "postgres", ""); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + MixedLoad.TABLE + " (tag text, n int, payload text NOT NULL,"
                    + " md5 text NOT NULL, PRIMARY KEY (tag, n))");
            st.execute("GRANT ALL ON " + MixedLoad.TABLE + " TO app");
        }
        proxy = TestProxy.startFrom(TestProxy.temporaryFile(config(0)));
        checks = new FaultChecks(cluster, proxy);
        pgbench = new PgbenchRuns(cluster.binaries().find("pgbench"), proxy, dir);
        pgbench.init();
        load = new MixedLoad(proxy, WRITERS, READERS);
        Poll.until(Duration.ofSeconds(30), "the load to write and to read on both replicas", () ->
                load.stats().writes() > 50 && cluster.replicaPorts().stream().allMatch(p -> load.readsOn(p) > 20));
    }

    /**
     * Trust for clients (the raw-socket clients need no SCRAM; pgbalancer still logs in to the servers with SCRAM),
     * a pool of {@value #POOL_SIZE} per server for 7+ clients, reads on the replicas. Consistency {@code session}:
     * the readers never write, so a read may go to any replica that is up, one the monitor has not polled yet too
     * (as the black hole). {@code blackHolePort} 0: none.
     */
    static String config(int blackHolePort) {
        StringBuilder y = new StringBuilder("listen: {host: 127.0.0.1, port: " + LISTEN_PORT + "}\n"
                + "auth:\n  method: trust\n  users:\n    - {name: app, password: \"${APP_PASSWORD}\"}\n"
                + "admin: {users: [app]}\n"
                + "pool: {mode: transaction, size: " + POOL_SIZE + ", checkout_timeout: 10s, connect_timeout: 2s}\n"
                + "routing: {consistency: session}\n"
                + "shutdown: {grace_period: 2s}\n"
                + "backends:\n  - {host: 127.0.0.1, port: " + cluster.primaryPort() + ", role: primary}\n");
        for (int p : cluster.replicaPorts()) {
            y.append("  - {host: 127.0.0.1, port: ").append(p).append(", role: replica}\n");
        }
        if (blackHolePort != 0) {
            y.append("  - {host: 127.0.0.1, port: ").append(blackHolePort).append(", role: replica}\n");
        }
        return y.toString();
    }

    @AfterEach
    void resumeLoad() {
        load.resume(); // a failed case must not leave the next one without load
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (load != null) {
                load.close();
            }
            if (checks != null) {
                String table = checks.table();
                System.out.println("Fault matrix results:\n" + table);
                Files.writeString(Path.of("target", "fault-matrix.md"), table);
                checks.close();
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    // ---------------------------------------------------------------- the cases

    @Test
    @Order(1)
    void replicaKilled() throws Exception {
        FaultCase.run("replica killed", Duration.ofSeconds(20), load, checks, c -> {
            int victim = cluster.replicaPorts().get(0);
            int other = cluster.replicaPorts().get(1);
            CompletableFuture<PsqlIT.Result> bench = pgbench.start("-S", "-n", "-c", "4", "-j", "2", "-T", "6",
                    "-R", "200");
            long otherBefore = load.readsOn(other);
            c.faultNow();
            cluster.killReplica(0);
            c.injected = "SIGKILL to replica " + victim + "'s postmaster; restarted once the monitor marked it down";
            Poll.until(Duration.ofSeconds(20), "the monitor to mark the killed replica down",
                    () -> "no".equals(checks.backend(victim).get("up")));
            long markedDown = millisSince(c.faultNanos);
            Poll.until(Duration.ofSeconds(20), "reads to go on on the other replica",
                    () -> load.readsOn(other) > otherBefore + 200);
            long victimReads = load.readsOn(victim);
            long restart = System.nanoTime();
            cluster.startReplica(0);
            assertEquals(victim, cluster.replicaPorts().get(0), "the replica came back on another port");
            long started = millisSince(restart);
            long back = System.nanoTime();
            Poll.until(Duration.ofSeconds(40), "the restarted replica to get reads again",
                    () -> load.readsOn(victim) > victimReads);
            c.recovery = "marked down " + markedDown + " ms after the kill (reads went on on the other replica);"
                    + " reads on it again " + millisSince(back) + " ms after its restart";
            c.measured = "restart (crash recovery) took " + started + " ms" + PgbenchRuns.outcome(bench);
        });
    }

    @Test
    @Order(2)
    void primaryRestarted() throws Exception {
        FaultCase.run("primary restarted", Duration.ofSeconds(20), load, checks, c -> {
            CompletableFuture<PsqlIT.Result> bench = pgbench.start("-n", "-c", "4", "-j", "2", "-T", "5",
                    "-R", "100");
            long writes = load.stats().writes();
            Poll.until(Duration.ofSeconds(10), "writes (and pgbench) under way before the restart",
                    () -> load.stats().writes() > writes + 300);
            c.faultNow();
            cluster.restartPrimary();
            long restarted = millisSince(c.faultNanos);
            c.injected = "pg_ctl restart -m fast of the primary, pgbench tpcb-like running";
            long writesAfter = load.stats().writes();
            Poll.until(Duration.ofSeconds(30), "writes to resume", () -> load.stats().writes() > writesAfter + 20);
            Poll.until(Duration.ofSeconds(30), "every writer that failed to write again",
                    () -> load.recoveredMillisAfter(c.faultNanos) >= 0);
            c.recovery = "writes stopped for " + load.longestWriteGapMillis() + " ms at most (the restart took "
                    + restarted + " ms); every writer that failed wrote again "
                    + load.recoveredMillisAfter(c.faultNanos) + " ms after the restart began";
            c.measured = PgbenchRuns.outcome(bench).substring(2)
                    + pgbench.assertBalancesAgree(cluster.jdbcUrl(cluster.primaryPort(), "app"));
        });
    }

    @Test
    @Order(3)
    void backendsTerminated() throws Exception {
        FaultCase.run("pg_terminate_backend", Duration.ofSeconds(20), load, checks, c -> {
            c.faultNow();
            int killed = 0;
            for (int round = 0; round < 3; round++) {
                for (int port : checks.serverPorts()) {
                    try (Connection su = checks.direct(port); Statement st = su.createStatement();
                         ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                                 + " FROM pg_stat_activity WHERE usename = 'app' AND backend_type = 'client backend'"
                                 + " AND application_name <> 'pgbalancer-monitor'")) {
                        rs.next();
                        killed += rs.getInt(1);
                    }
                }
                long reads = load.stats().reads();
                long writes = load.stats().writes();
                Poll.until(Duration.ofSeconds(20), "the load to go on between two rounds",
                        () -> load.stats().reads() > reads + 50 && load.stats().writes() > writes + 10);
            }
            c.injected = "3 rounds of pg_terminate_backend on every pooled connection of all 3 servers (" + killed
                    + " backends)";
            Poll.until(Duration.ofSeconds(30), "every client that failed to succeed again",
                    () -> load.recoveredMillisAfter(c.faultNanos) >= 0);
            c.recovery = "every client that failed succeeded again " + load.recoveredMillisAfter(c.faultNanos)
                    + " ms after the first round";
            c.measured = "slowest client operation " + load.slowestMillis() + " ms (reads wait while every server"
                    + " is banned: see BENCHMARKS.md)";
        });
    }

    @Test
    @Order(4)
    void clientDroppedMidTransactionAndMidPipeline() throws Exception {
        FaultCase.run("client dropped mid-transaction / mid-pipeline", Duration.ofSeconds(10), load, checks, c -> {
            int rounds = 2 * POOL_SIZE;
            for (int i = 0; i < rounds; i++) {
                RawClients.dropInTransaction(proxy.port(), "dropped-tx", i);
                RawClients.dropMidPipeline(proxy.port(), "dropped-pipe-flushed", i, true);
                RawClients.dropMidPipeline(proxy.port(), "dropped-pipe", i, false);
            }
            c.faultNow();
            c.injected = rounds + "x each: BEGIN + INSERT then close; Parse/Bind/Execute(INSERT)/Flush, its"
                    + " CommandComplete read, then close; Parse/Bind/Execute without Sync, then close";
            long idleTx = idleInTransactionGone("%dropped-%");
            assertEquals(0, checks.rowsTagged("dropped-%"), "rows of dropped clients were committed");
            RawClients.assertPoolClean(proxy, "dropped-%", 3 * POOL_SIZE);
            c.recovery = "no dropped client's backend idle in transaction " + idleTx + " ms after the last close";
            c.measured = "0 of their rows committed; the next " + 3 * POOL_SIZE + " transactions on the primary"
                    + " started outside any transaction";
        });
    }

    @Test
    @Order(5)
    void thousandConcurrentCancels() throws Exception {
        FaultCase.run("1,000 concurrent cancels", Duration.ofSeconds(20), load, checks, c -> {
            // the victims' long reads must land on replicas: wait out any ban a previous case left (a ban sends
            // reads to the primary, whose pool the victims would then fill for the writers too)
            Poll.until(Duration.ofSeconds(20), "no server banned", () -> {
                for (int port : allPorts()) {
                    if (!"no".equals(checks.backend(port).get("banned"))) {
                        return false;
                    }
                }
                return true;
            });
            try (CancelStorm storm = new CancelStorm(proxy, 4, 8)) {
                storm.awaitRunning();
                Poll.until(Duration.ofSeconds(20), "the 4 victims' queries to run", () -> checks.activeQueries(
                        "%pg_sleep(" + CancelStorm.VICTIM_SLEEP + ")%") == 4);
                c.faultNow();
                long took = storm.fire(1000);
                long sent = System.nanoTime();
                // a forwarded cancel lands when the server has forked for it: on a busy machine, a while after
                try {
                    Poll.until(Duration.ofSeconds(30), "every victim's query to be cancelled by the storm",
                            () -> storm.victimsNeverCancelled().isEmpty());
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; never cancelled: " + storm.victimsNeverCancelled(), e);
                }
                long landed = millisSince(sent);
                long cancelled = storm.victimsCancelled();
                try {
                    storm.stop();
                } finally {
                    assertEquals(List.of(), storm.unexpected(), "errors other than a victim's cancel");
                }
                c.injected = "1,000 connections each send a CancelRequest at once, with the keys of 4 raw clients"
                        + " running pg_sleep(" + CancelStorm.VICTIM_SLEEP + ") loops, beside 8 innocent pgjdbc"
                        + " pg_sleep(" + CancelStorm.INNOCENT_SLEEP + ") clients and the load";
                c.clientsSawToo = "; victims' queries cancelled " + cancelled + ", innocents' "
                        + storm.innocentsCancelled() + " of " + storm.innocentQueries();
                c.recovery = "all 1,000 read and closed by pgbalancer within " + took + " ms; every victim's query"
                        + " cancelled " + landed + " ms after that";
                assertEquals(List.of(), storm.wrong(), "an innocent client's query was cancelled or answered wrong");
            }
        });
    }

    private static List<Integer> allPorts() {
        List<Integer> ports = new java.util.ArrayList<>(cluster.replicaPorts());
        ports.add(cluster.primaryPort());
        return ports;
    }

    @Test
    @Order(6)
    void partialFrameThenDrop() throws Exception {
        FaultCase.run("partial frame then drop", Duration.ofSeconds(10), load, checks, c -> {
            int rounds = 2 * POOL_SIZE;
            for (int i = 0; i < rounds; i++) {
                RawClients.partialQueryInTransaction(proxy.port(), "partial-tx", i);
                RawClients.partialSyncAfterPipeline(proxy.port(), "partial-pipe", i);
            }
            c.faultNow();
            c.injected = rounds + "x each: BEGIN + INSERT, then half a Query frame, close; Parse/Bind/Execute(INSERT)"
                    + " then 3 of Sync's 5 bytes, close";
            long idleTx = idleInTransactionGone("%partial-%");
            assertEquals(0, checks.rowsTagged("partial-%"), "rows of clients that sent half a frame were committed");
            RawClients.assertPoolClean(proxy, "partial-%", 3 * POOL_SIZE);
            c.recovery = "no such client's backend idle in transaction " + idleTx + " ms after the last close";
            c.measured = "0 of their rows committed; the next " + 3 * POOL_SIZE + " transactions on the primary"
                    + " started outside any transaction";
        });
    }

    @Test
    @Order(7)
    void serverThatNeverAnswers() throws Exception {
        FaultCase.run("server accepts TCP, never answers", Duration.ofSeconds(20), load, checks, c -> {
            try (BlackHole hole = new BlackHole()) {
                Files.writeString(proxy.configFile(), config(hole.port()));
                assertTrue(proxy.reload().ok(), "reload adding the black hole");
                c.faultNow();
                c.injected = "a ServerSocket that accepts and reads but never writes, added as a 3rd replica by reload";
                // SHOW POOLS, sampled while waiting: a read sent to the black hole waits connect_timeout in its pool
                int[] useBefore = {0};
                Poll.until(Duration.ofSeconds(20), "the monitor to mark the black hole down and banned", () -> {
                    useBefore[0] = Math.max(useBefore[0], checks.poolUse(hole.port()));
                    Map<String, String> b = checks.backend(hole.port());
                    return "no".equals(b.get("up")) && !"no".equals(b.get("banned"));
                });
                long downNanos = System.nanoTime();
                long down = millisSince(c.faultNanos);
                Poll.until(Duration.ofSeconds(10), "reads sent to it before the verdict to give up on it",
                        () -> checks.poolUse(hole.port()) == 0);
                // watch several failed polls of the monitor (each a connection of its own to the black hole)
                int acceptedAtDown = hole.accepted();
                int[] useAfter = {0};
                Poll.until(Duration.ofSeconds(40), "3 more connection attempts to the black hole", () -> {
                    useAfter[0] = Math.max(useAfter[0], checks.poolUse(hole.port()));
                    return hole.accepted() >= acceptedAtDown + 3;
                });
                long watched = millisSince(downNanos);
                long slowest = load.slowestMillis();
                Files.writeString(proxy.configFile(), config(0));
                assertTrue(proxy.reload().ok(), "reload removing the black hole");
                Poll.until(Duration.ofSeconds(20), "the black hole to leave SHOW BACKENDS",
                        () -> checks.backend(hole.port()) == null);
                c.recovery = "marked down and banned " + down + " ms after it was added; " + (useAfter[0] == 0
                        ? "no read sent to it after that (its pool idle through " + watched + " ms and 3 more"
                        + " connection attempts of the monitor)" : "still up to " + useAfter[0] + " reads at once"
                        + " waited for it after that");
                c.measured = "before the verdict up to " + useBefore[0] + " reads at once waited for it (SHOW POOLS),"
                        + " each run elsewhere after connect_timeout 2 s: slowest client operation " + slowest + " ms; "
                        + hole.accepted() + " connections accepted by the black hole";
                assertTrue(slowest < 2000 + 3000, "an operation took " + slowest + " ms: more than pool.connect_timeout"
                        + " (2 s) and a retry");
                assertEquals(0, useAfter[0], "reads sent to the black hole after the monitor had marked it down"
                        + " (its pool's connections + waiting clients, sampled)");
                assertEquals(0, load.stats().minus(c.before).readErrors(), "reads failed: " + load.failures);
            }
        });
    }

    @Test
    @Order(8)
    void clientThatStopsReading() throws Exception {
        FaultCase.run("client stops reading", Duration.ofSeconds(20), load, checks, c -> {
            StuckReader.Sample base = StuckReader.sample();
            try (StuckReader stuck = StuckReader.start(proxy.port(), checks)) {
                c.faultNow();
                c.injected = "a raw client asks for " + StuckReader.RESULT_MB + " MB (SELECT repeat(..) FROM"
                        + " generate_series) and never reads";
                long blocked = stuck.awaitServerBlocked();
                long reads = load.stats().reads();
                StuckReader.Sample peak = stuck.watch(() -> load.stats().reads() > reads + 500);
                c.measured = "the server blocked in ClientWrite " + blocked + " ms after the query; meanwhile the"
                        + " other clients did " + (load.stats().reads() - reads) + " reads; pgbalancer's memory: "
                        + peak.minus(base);
                assertTrue(peak.minus(base).directBytes() < 32L << 20, "direct memory grew " + peak.minus(base));
                assertTrue(peak.minus(base).heapBytes() < 64L << 20, "heap grew " + peak.minus(base));
                stuck.close();
                    c.recovery = "its query stopped " + stuck.awaitBackendGone() + " ms after the client closed";
            }
        });
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Waits until no server has a backend idle in transaction whose last query is LIKE {@code queryLike} (the load's
     * writers are idle in transaction between their statements); how long that took, in ms.
     */
    static long idleInTransactionGone(String queryLike) throws Exception {
        long t0 = System.nanoTime();
        List<String> seen = new java.util.ArrayList<>();
        try {
            Poll.until(Duration.ofSeconds(3), "no backend idle in transaction after " + queryLike, () -> {
                seen.clear();
                seen.addAll(checks.idleInTransaction(queryLike));
                return seen.isEmpty();
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": " + seen, e);
        }
        return millisSince(t0);
    }
}

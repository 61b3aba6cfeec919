// Reads that fail on a replica before the client saw anything run again elsewhere: zero client-visible errors.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RoutingRetryIT {
    @Test
    void readRefusedAsAWriteRunsAgainOnThePrimary() throws Exception {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("create table if not exists retry_log(x int); grant all on retry_log to app;"
                    + " create or replace function retry_write(v int) returns int language sql as"
                    + " $$ insert into retry_log values (v) returning x $$;"
                    + " grant execute on function retry_write(int) to app; truncate retry_log");
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30)); // the replicas must know retry_write
        try (TestProxy proxy = TestProxy.startWithReplicas("");
             Connection simple = proxy.connect("preferQueryMode", "simple");
             Connection prepared = proxy.connect("prepareThreshold", "1")) {
            for (int i = 0; i < 20; i++) {
                Connection c = i % 2 == 0 ? simple : prepared;
                try (PreparedStatement ps = c.prepareStatement("select retry_write(?), pg_is_in_recovery()")) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(i, rs.getInt(1));
                        assertEquals(false, rs.getBoolean(2), "the write ran on the primary");
                    }
                }
            }
            // and plain reads still go to replicas on the same connections
            try (ResultSet rs = simple.createStatement().executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                assertTrue(rs.getBoolean(1));
            }
        }
        try (Connection su = TestCluster.directSuperuser("app");
             ResultSet rs = su.createStatement().executeQuery("select count(*) from retry_log")) {
            rs.next();
            assertEquals(20, rs.getInt(1), "each write ran exactly once");
        }
    }

    @Test
    void replicaStoppedUnderLoadCostsNoClientAnError() throws Exception {
        List<Integer> replicas = TestCluster.get().replicaPorts();
        int victim = replicas.size() - 1;
        try (TestProxy proxy = TestProxy.startWithReplicas("pool: {size: 8, checkout_timeout: 5s}\n")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger reads = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> clients = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                clients.add(pool.submit(() -> {
                    try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                        while (!stop.get()) {
                            try (ResultSet rs = st.executeQuery("select pg_sleep(0.02), pg_is_in_recovery()")) {
                                rs.next();
                                assertTrue(rs.getBoolean(2));
                                reads.incrementAndGet();
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                    return null;
                }));
            }
            int victimPort = replicas.get(victim);
            Poll.until(Duration.ofSeconds(10), "reads flowing, and the proxy connected to the victim replica "
                    + victimPort, () -> {
                        assertTrue(errors.isEmpty(), "client-visible errors before the stop: " + errors);
                        return reads.get() >= 50 && appBackends(victimPort) > 0;
                    });
            int before = reads.get();
            try {
                TestCluster.get().stopReplica(victim); // fast shutdown: running queries get FATAL 57P01
                int atStop = reads.get();
                Poll.until(Duration.ofSeconds(10), "100 more reads after replica " + victimPort + " stopped", () ->
                        !errors.isEmpty() || reads.get() >= atStop + 100);
            } finally {
                stop.set(true);
                for (Future<?> f : clients) {
                    f.get(30, TimeUnit.SECONDS);
                }
                pool.shutdown();
                TestCluster.get().startReplica(victim);
            }
            assertTrue(errors.isEmpty(), "client-visible errors: " + errors);
            assertTrue(reads.get() > before + 50, "reads kept flowing after the replica stopped: " + reads.get());
        }
    }

    @Test
    void readInFlightWhenItsReplicaStopsFinishesElsewhere() throws Exception {
        List<Integer> replicas = TestCluster.get().replicaPorts();
        int victim = 0;
        String yaml = "backends:\n  - {host: 127.0.0.1, port: " + TestCluster.get().primaryPort() + ", role: primary}\n"
                + "  - {host: 127.0.0.1, port: " + replicas.get(victim) + ", role: replica}\n"
                + "routing: {primary_reads: fallback}\n";
        try (TestProxy proxy = TestProxy.start(yaml); Connection c = proxy.connect()) {
            ExecutorService stopper = Executors.newSingleThreadExecutor();
            try {
                int victimPort = replicas.get(victim);
                Future<?> stopped = stopper.submit(() -> {
                    Poll.until(Duration.ofSeconds(10), "the read to run on replica " + victimPort, () ->
                            activeOn(victimPort, "select pg_sleep(2), inet_server_port()") > 0);
                    TestCluster.get().stopReplica(victim);
                    return null;
                });
                try (ResultSet rs = c.createStatement().executeQuery("select pg_sleep(2), inet_server_port()")) {
                    rs.next();
                    // the replica died mid-query; the read ran again, on the primary (the only server left)
                    assertEquals(TestCluster.get().primaryPort(), rs.getInt(2));
                }
                stopped.get(30, TimeUnit.SECONDS);
            } finally {
                stopper.shutdown();
                TestCluster.get().startReplica(victim);
            }
        }
    }

    /** Client backends of user app on the server at {@code port}. */
    private static long appBackends(int port) throws Exception {
        return count(port, "select count(*) from pg_stat_activity where backend_type = 'client backend'"
                + " and usename = 'app'");
    }

    /** Backends of user app running {@code sql} (a prefix of their query) on the server at {@code port}. */
    private static long activeOn(int port, String sql) throws Exception {
        return count(port, "select count(*) from pg_stat_activity where usename = 'app' and state = 'active'"
                + " and starts_with(query, '" + sql.replace("'", "''") + "')");
    }

    private static long count(int port, String sql) throws Exception {
        LocalCluster cl = TestCluster.get();
        try (Connection c = DriverManager.getConnection(cl.jdbcUrl(port, "postgres"), "postgres", "");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

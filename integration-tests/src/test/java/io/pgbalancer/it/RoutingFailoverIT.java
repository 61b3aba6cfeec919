// purpose: with a replica stopped, autocommit reads keep succeeding with no client-visible error and never reach it.
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One replica is stopped (fast shutdown) while the cluster keeps running; the proxy learns it is gone when a new
 * connection to it is refused, bans it for 5 s (again and again while it stays down) and retries the read elsewhere.
 * Only reads between transactions are tested, not a read in flight when the replica dies. The replica is started
 * again in a finally block, and the test waits until it is back in recovery and streaming.
 */
class RoutingFailoverIT {
    private static final String DB = "app";
    private static final String POOL = "pool: {mode: transaction, size: 4, checkout_timeout: 10s}\n";
    private static final int CLIENTS = 4;
    private static final int READS = 500;
    private static final int VICTIM = 1;

    /** What the clients saw: reads per server port, and every error. */
    record Outcome(Map<Integer, Integer> ports, List<String> errors) {
        int total() {
            return ports.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    @Test
    void readsKeepSucceedingWhileAReplicaIsDown() throws Exception {
        LocalCluster cl = TestCluster.get();
        int victimPort = cl.replicaPorts().get(VICTIM);
        try (TestProxy warm = TestProxy.startWithReplicas(POOL)) {
            List<Connection> clients = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(connect(warm));
                }
                Outcome before = reads(warm, clients, 60);
                assertTrue(before.errors().isEmpty(), "before the stop: " + before.errors());
                assertTrue(before.ports().getOrDefault(victimPort, 0) > 0,
                        "the victim served reads (and so has pooled connections) before it stops: " + before.ports());

                cl.stopReplica(VICTIM);
                try {
                    // the proxy that knew the replica: its pooled connections to it died with it
                    Outcome known = reads(warm, clients, READS);
                    assertSurvived("proxy running before the stop", known, victimPort);
                    // a proxy started while the replica is down: its first connection attempt is refused
                    try (TestProxy fresh = TestProxy.startWithReplicas(POOL)) {
                        List<Connection> freshClients = new ArrayList<>();
                        try {
                            for (int i = 0; i < CLIENTS; i++) {
                                freshClients.add(connect(fresh));
                            }
                            Outcome cold = reads(fresh, freshClients, READS);
                            assertSurvived("proxy started after the stop", cold, victimPort);
                        } finally {
                            closeAll(freshClients);
                        }
                    }
                } finally {
                    restart(VICTIM);
                }
                // the ban is temporary: once the replica is back (on its old port), it gets reads again
                if (cl.replicaPorts().get(VICTIM) == victimPort) {
                    Poll.until(Duration.ofSeconds(20), "the restarted replica (port " + victimPort
                            + ") to get reads again once its ban expired", () -> {
                                Outcome after = reads(warm, clients, 40);
                                assertTrue(after.errors().isEmpty(), "after the restart: " + after.errors());
                                return after.ports().getOrDefault(victimPort, 0) > 0;
                            });
                }
            } finally {
                closeAll(clients);
            }
        }
    }

    private static void assertSurvived(String what, Outcome o, int victimPort) {
        LocalCluster cl = TestCluster.get();
        System.out.println("[routing-failover] " + what + ": reads by port " + o.ports() + " (victim " + victimPort
                + ", primary " + cl.primaryPort() + "), " + o.errors().size() + " errors");
        assertEquals(List.of(), o.errors(), what + ": client-visible errors");
        assertEquals(READS, o.total(), what + ": every read answered");
        assertEquals(0, o.ports().getOrDefault(victimPort, 0), what + ": reads on the stopped replica");
        assertEquals(0, o.ports().getOrDefault(cl.primaryPort(), 0),
                what + ": reads on the primary (primary_reads: fallback, and two replicas are up)");
        for (int port : cl.replicaPorts()) {
            if (port != victimPort) {
                assertTrue(o.ports().getOrDefault(port, 0) > 0, what + ": replica " + port + " took reads: "
                        + o.ports());
            }
        }
    }

    /** {@code total} autocommit reads spread over the clients, all at once; an error is recorded, not thrown. */
    private static Outcome reads(TestProxy proxy, List<Connection> clients, int total) throws Exception {
        Map<Integer, Integer> ports = new ConcurrentHashMap<>();
        List<String> errors = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < clients.size(); i++) {
                int me = i;
                int share = total / clients.size() + (i < total % clients.size() ? 1 : 0);
                done.add(pool.submit(() -> {
                    go.await();
                    for (int n = 0; n < share; n++) {
                        try (Statement st = clients.get(me).createStatement();
                             ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                            rs.next();
                            ports.merge(rs.getInt(1), 1, Integer::sum);
                        } catch (SQLException e) {
                            errors.add(e.getSQLState() + " " + e.getMessage());
                            if (clients.get(me).isClosed()) {
                                clients.set(me, connect(proxy)); // keep counting with a new connection
                            }
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return new Outcome(new HashMap<>(ports), new ArrayList<>(errors));
    }

    /** Starts the replica again and waits until it is in recovery, streaming, and has replayed the primary. */
    private static void restart(int index) throws Exception {
        LocalCluster cl = TestCluster.get();
        cl.startReplica(index);
        int port = cl.replicaPorts().get(index);
        Poll.until(Duration.ofSeconds(60), "replica" + index + " (port " + port + ") to be in recovery again and every"
                + " replica to stream", () -> {
                    try (Connection c = DriverManager.getConnection(cl.jdbcUrl(port, "postgres"), "postgres", "");
                         Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            return false;
                        }
                    }
                    try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery(
                                 "select count(*) from pg_stat_replication where state = 'streaming'")) {
                        rs.next();
                        return rs.getLong(1) == cl.replicaPorts().size();
                    }
                });
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
    }

    private static Connection connect(TestProxy proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    private static void closeAll(List<Connection> connections) {
        for (Connection c : connections) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
    }
}

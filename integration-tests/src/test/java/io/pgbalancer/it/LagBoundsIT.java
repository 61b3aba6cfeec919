// purpose: routing.max_lag keeps reads off a replica whose replay is paused while writes go on, and lets them back once it catches up.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LagBoundsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void setUp() throws Exception {
        proxy = TestProxy.startWithReplicas("routing: {consistency: eventual, max_lag: {time: 1s}}\n"
                + "monitor: {interval: 200ms}\npool: {mode: transaction, size: 4}\n" + TestProxy.metricsYaml());
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("DROP TABLE IF EXISTS lag_it");
            st.execute("CREATE TABLE lag_it (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
        }
    }

    @AfterAll
    static void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** The replica ports that served {@code n} autocommit reads through pgbalancer. */
    static Set<Integer> readPorts(Connection c, String sql, int n) throws SQLException {
        Set<Integer> ports = new HashSet<>();
        try (Statement st = c.createStatement()) {
            for (int i = 0; i < n; i++) {
                try (ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    ports.add(rs.getInt(1));
                }
            }
        }
        return ports;
    }

    /** Runs {@code body} while a writer commits a row every 20 ms directly on the primary. */
    static void withWrites(ThrowingRunnable body) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
                while (!stop.get()) {
                    st.execute("INSERT INTO lag_it DEFAULT VALUES");
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        try {
            body.run();
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static void pause(int port, boolean pause) throws SQLException {
        Replication.pauseReplay(port, pause);
    }

    @Test
    void aReplicaBeyondMaxLagGetsNoReadsUntilItCatchesUp() throws Exception {
        int paused = TestCluster.get().replicaPorts().get(0);
        try (Connection c = proxy.connect()) {
            assertTrue(readPorts(c, "SELECT inet_server_port()", 30).contains(paused), "all replicas serve at first");
            withWrites(() -> {
                pause(paused, true);
                try {
                    Poll.until(Duration.ofSeconds(20), "the paused replica's lag passes 1 s", () ->
                            proxy.metric("pgbalancer_replica_lag_seconds", "backend", "127.0.0.1:" + paused) > 1.2);
                    Set<Integer> ports = readPorts(c, "SELECT inet_server_port()", 60);
                    assertFalse(ports.contains(paused), "reads went to the lagging replica: " + ports);
                    assertTrue(ports.size() >= 2, "the other replicas still serve: " + ports);
                } finally {
                    pause(paused, false);
                }
                Poll.until(Duration.ofSeconds(20), "the caught-up replica serves reads again", () ->
                        readPorts(c, "SELECT inet_server_port()", 30).contains(paused));
            });
        }
    }

    @Test
    void aStalenessBoundFromAHintOrTheSessionKeepsBoundedReadsOffALaggingReplicaOnly() throws Exception {
        int paused = TestCluster.get().replicaPorts().get(1);
        try (TestProxy unbounded = TestProxy.startWithReplicas("routing: {consistency: eventual}\n"
                + "monitor: {interval: 200ms}\npool: {mode: transaction, size: 4}\n" + TestProxy.metricsYaml());
             Connection hinted = unbounded.connect(); Connection bounded = unbounded.connect()) {
            try (Statement st = bounded.createStatement()) {
                st.execute("SET pgbalancer.max_staleness = '500ms'");
            }
            withWrites(() -> {
                pause(paused, true);
                try {
                    Poll.until(Duration.ofSeconds(20), "the paused replica's lag passes 0.5 s", () ->
                            unbounded.metric("pgbalancer_replica_lag_seconds", "backend", "127.0.0.1:" + paused) > 0.8);
                    Set<Integer> viaHint = readPorts(hinted,
                            "/* pgbalancer: max_staleness=500ms */ SELECT inet_server_port()", 60);
                    assertFalse(viaHint.contains(paused), "hinted reads went to the lagging replica: " + viaHint);
                    Set<Integer> viaSession = readPorts(bounded, "SELECT inet_server_port()", 60);
                    assertFalse(viaSession.contains(paused), "bounded session read on the lagging replica");
                    assertTrue(readPorts(hinted, "SELECT inet_server_port()", 60).contains(paused),
                            "reads without a bound still use it (consistency eventual)");
                } finally {
                    pause(paused, false);
                }
                Poll.until(Duration.ofSeconds(20), "the caught-up replica serves bounded reads again", () ->
                        readPorts(bounded, "SELECT inet_server_port()", 30).contains(paused));
            });
        }
    }
}

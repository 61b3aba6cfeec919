// purpose: the primary switched by Kubernetes, with real servers: an operator promotes the replica and then moves the
// role, by pod labels (Patroni's role=master|replica) or by its -rw/-ro Services; writes follow with nothing lost.
package io.pgbalancer.it;

import static io.pgbalancer.it.MockKubernetes.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 180, unit = TimeUnit.SECONDS)
class KubernetesFailoverIT {
    private static final String NAMESPACE = MockKubernetes.NAMESPACE;
    private static final int WRITERS = 3;

    private MockKubernetes api;
    private KubernetesClient admin;
    private LocalCluster cluster;

    @BeforeEach
    void start() {
        api = new MockKubernetes();
        admin = api.admin;
        cluster = LocalCluster.builder().replicas(1)
                .user("app", TestCluster.APP_PASSWORD, "scram-sha-256")
                .database("app")
                .log(line -> System.out.println("[k8s failover cluster] " + line))
                .start();
    }

    @AfterEach
    void stop() {
        cluster.close();
        api.close();
    }

    private void pod(String name, String role) {
        admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE)
                .withLabels(Map.of("role", role)).endMetadata().build()).createOr(r -> r.update());
    }

    /** Writers insert numbered rows through the proxy until stopped; what committed is recorded. */
    private static final class Writers implements AutoCloseable {
        final List<List<Integer>> committed = new ArrayList<>();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final AtomicLong count = new AtomicLong();
        final Map<Integer, AtomicLong> byPort = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        private final List<Future<?>> futures = new ArrayList<>();

        Writers(TestProxy proxy) {
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                List<Integer> mine = Collections.synchronizedList(new ArrayList<>());
                committed.add(mine);
                futures.add(pool.submit(() -> {
                    Connection conn = null;
                    int n = 0;
                    while (running.get()) {
                        n++;
                        try {
                            if (conn == null) {
                                conn = proxy.connect();
                            }
                            try (PreparedStatement ins = conn.prepareStatement(
                                    "INSERT INTO k8s_rows VALUES (?, ?) RETURNING inet_server_port()")) {
                                ins.setInt(1, writer);
                                ins.setInt(2, n);
                                try (ResultSet rs = ins.executeQuery()) {
                                    rs.next();
                                    byPort.computeIfAbsent(rs.getInt(1), p -> new AtomicLong()).incrementAndGet();
                                }
                            }
                            mine.add(n);
                            count.incrementAndGet();
                        } catch (SQLException e) {
                            errors.add(e.getSQLState() + " " + e.getMessage());
                            try {
                                if (conn != null) {
                                    conn.close();
                                }
                            } catch (SQLException ignored) {
                                // broken already
                            }
                            conn = null;
                        }
                    }
                    if (conn != null) {
                        conn.close();
                    }
                    return null;
                }));
            }
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
    }

    /** Runs writers through a stop of the primary, the promotion and {@code switchRole}; checks what was committed. */
    private void failover(String discovery, Runnable before, Runnable switchRole) throws Exception {
        try (Connection c = DriverManager.getConnection(cluster.jdbcUrl(cluster.primaryPort(), "app"), "postgres", "");
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE k8s_rows (writer int, n int, PRIMARY KEY (writer, n))");
            st.execute("GRANT ALL ON k8s_rows TO app");
        }
        before.run();
        String yaml = TestProxy.yaml("backends: []\ndiscovery: {kubernetes: {namespace: " + NAMESPACE + ", "
                + discovery + "}}\n");
        try (KubernetesClient client = api.client();
             TestProxy proxy = TestProxy.startFrom(TestProxy.temporaryFile(yaml), client, "pgbalancer-0")) {
            Writers writers = new Writers(proxy);
            try {
                Poll.until(Duration.ofSeconds(30), "writes on the first primary", () -> writers.count.get() > 100);
                cluster.stopPrimary();
                long atStop = writers.count.get();
                cluster.promoteReplica(0);
                long stopped = writers.count.get();
                switchRole.run();
                long switched = System.nanoTime();
                Poll.until(Duration.ofSeconds(30), "writes on the promoted server",
                        () -> writers.count.get() > stopped + 100);
                System.out.printf("kubernetes failover (%s): %d writes between the stop and the promotion's end;"
                        + " 100 more within %d ms of the role switch; writes by port %s; errors %s%n", discovery,
                        stopped - atStop, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - switched),
                        writers.byPort, writers.errors);
            } finally {
                writers.close();
            }
            for (String e : writers.errors) {
                assertTrue(!e.startsWith("25006"), "a write reached a server in recovery: " + e);
            }
            assertTrue(writers.errors.size() <= WRITERS * 2, "each writer loses at most the transactions that"
                    + " were running at the stop: " + writers.errors);
            try (Connection c = DriverManager.getConnection(cluster.jdbcUrl(cluster.replicaPorts().get(0), "app"),
                    "postgres", ""); Statement st = c.createStatement()) {
                for (int w = 0; w < WRITERS; w++) {
                    List<Integer> rows;
                    synchronized (writers.committed.get(w)) {
                        rows = new ArrayList<>(writers.committed.get(w));
                    }
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FROM k8s_rows WHERE writer = " + w
                            + " AND n = ANY('{" + String.join(",", rows.stream().map(String::valueOf).toList())
                            + "}'::int[])")) {
                        rs.next();
                        assertEquals(rows.size(), rs.getInt(1), "writer " + w + ": every committed row is there");
                    }
                }
            }
        }
    }

    @Test
    void patroniStyleLabelsMoveThePrimary() throws Exception {
        int first = cluster.primaryPort();
        int second = cluster.replicaPorts().get(0);
        failover("roles: label, service: pg, label: {key: role, primary: master, replica: replica}", () -> {
            pod("pg-0", "master");
            pod("pg-1", "replica");
            admin.resource(slice("pg-0", "pg", first, "pg-0")).create();
            admin.resource(slice("pg-1", "pg", second, "pg-1")).create();
        }, () -> {
            admin.resource(slice("pg-0", "pg", first, "pg-0")).delete(); // the stopped pod is not ready
            pod("pg-1", "master");
        });
    }

    @Test
    void cloudNativePgStyleServicesMoveThePrimary() throws Exception {
        int first = cluster.primaryPort();
        int second = cluster.replicaPorts().get(0);
        failover("roles: services, primary_service: pg-rw, replica_service: pg-ro", () -> {
            admin.resource(slice("pg-rw", "pg-rw", first, "pg-0")).create();
            admin.resource(slice("pg-ro", "pg-ro", second, "pg-1")).create();
        }, () -> {
            admin.resource(slice("pg-ro", "pg-ro", second, "pg-1")).delete();
            admin.resource(slice("pg-rw", "pg-rw", first, "pg-0")).delete();
            admin.resource(slice("pg-rw-2", "pg-rw", second, "pg-1")).create();
        });
    }
}

// purpose: Kubernetes discovery against fabric8's mock API server (CRUD mode) with real PostgreSQL servers as the
// endpoints: a replica's EndpointSlice added then deleted while 8 clients read, and two pgbalancer instances sharing
// one budget of max_connections per server.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KubernetesDiscoveryIT {
    private static final String NAMESPACE = "db";
    private static final int CLIENTS = 8;

    private KubernetesMockServer api;
    private KubernetesClient admin;

    @BeforeEach
    void api() {
        // CRUD mode: the server keeps what clients create and streams watch events
        api = new KubernetesMockServer(new io.fabric8.mockwebserver.Context(), new okhttp3.mockwebserver.MockWebServer(),
                new java.util.HashMap<>(), new io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher(
                        new java.util.HashMap<>()), false);
        api.init();
        admin = client();
    }

    @AfterEach
    void stop() {
        admin.close();
        api.destroy();
    }

    private KubernetesClient client() {
        return api.createClient(b -> b.editOrNewConfig().withNamespace(NAMESPACE).withWatchReconnectInterval(50)
                .withRequestRetryBackoffInterval(50).endConfig());
    }

    /** One slice of {@code service} holding one endpoint, the server on 127.0.0.1:{@code port}. */
    private static EndpointSlice slice(String name, String service, int port, String pod) {
        return new EndpointSliceBuilder()
                .withNewMetadata().withName(name).withNamespace(NAMESPACE)
                .addToLabels("kubernetes.io/service-name", service).endMetadata()
                .withAddressType("IPv4")
                .withPorts(new EndpointPortBuilder().withName("postgres").withPort(port).withProtocol("TCP").build())
                .withEndpoints(new EndpointBuilder().withAddresses("127.0.0.1")
                        .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
                        .withNewTargetRef().withKind("Pod").withName(pod).withNamespace(NAMESPACE).endTargetRef()
                        .build())
                .build();
    }

    /**
     * Waits until {@code watches} EndpointSlice watches are open: the mock server does not send a watch the changes
     * made between its list and its watch request, so the test changes nothing before.
     */
    private void awaitWatches(int watches) throws Exception {
        int seen = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (seen < watches) {
            RecordedRequest r = api.takeRequest(100, TimeUnit.MILLISECONDS);
            if (r != null && r.getPath().contains("endpointslices") && r.getPath().contains("watch=true")) {
                seen++;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + seen + " of " + watches + " EndpointSlice watches opened");
            }
        }
    }

    @Test
    void aReplicaSliceAddedThenDeletedWhileEightClientsReadWithoutAnError() throws Exception {
        int primary = TestCluster.get().primaryPort();
        int replica0 = TestCluster.get().replicaPorts().get(0);
        int replica1 = TestCluster.get().replicaPorts().get(1);
        admin.resource(slice("pg-primary", "pg", primary, "pg-0")).create();
        admin.resource(slice("pg-r0", "pg", replica0, "pg-1")).create();
        String http = TestProxy.metricsYaml();
        String yaml = TestProxy.yaml(http + "backends: []\n"
                + "discovery: {kubernetes: {namespace: " + NAMESPACE + ", roles: auto, service: pg,"
                + " port: postgres}}\n");
        try (KubernetesClient client = client();
             TestProxy proxy = TestProxy.startFrom(TestProxy.temporaryFile(yaml), client, "pgbalancer-0")) {
            awaitWatches(1);
            AtomicBoolean running = new AtomicBoolean(true);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Map<Integer, AtomicLong> readsByPort = new ConcurrentHashMap<>();
            AtomicLong deletedAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong onDeletedAfter = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(pool.submit(() -> {
                    try (Connection conn = proxy.connect(); Statement st = conn.createStatement()) {
                        while (running.get()) {
                            long started = System.nanoTime();
                            try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                                rs.next();
                                int port = rs.getInt(1);
                                readsByPort.computeIfAbsent(port, p -> new AtomicLong()).incrementAndGet();
                                if (port == replica0 && started - deletedAt.get() > 0) {
                                    onDeletedAfter.incrementAndGet();
                                }
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            Poll.until(Duration.ofSeconds(30), "reads on the first replica",
                    () -> readsByPort.containsKey(replica0) || !errors.isEmpty());

            admin.resource(slice("pg-r1", "pg", replica1, "pg-2")).create();
            long added = System.nanoTime();
            Poll.until(Duration.ofSeconds(10), "a read on the replica whose slice was added",
                    () -> readsByPort.containsKey(replica1) || !errors.isEmpty());
            long servedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - added);

            admin.resource(slice("pg-r0", "pg", replica0, "pg-1")).delete();
            Poll.until(Duration.ofSeconds(10), "the deletion to be applied", () -> proxy.metric(
                    "pgbalancer_endpoint_changes_total", "source", "kubernetes pg") >= 3);
            deletedAt.set(System.nanoTime());
            long after = readsByPort.get(replica1).get();
            Poll.until(Duration.ofSeconds(10), "more reads after the deletion",
                    () -> readsByPort.get(replica1).get() > after + 200 || !errors.isEmpty());
            running.set(false);
            for (Future<?> f : clients) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            System.out.printf("kubernetes discovery: the added replica served its first read %d ms after its"
                    + " EndpointSlice was created; reads by port %s%n", servedMillis, readsByPort);
            if (!errors.isEmpty()) {
                AssertionError failure = new AssertionError(errors.size() + " client error(s)");
                errors.forEach(failure::addSuppressed);
                throw failure;
            }
            assertEquals(0, onDeletedAfter.get(), "reads that started after the deletion ran on the deleted replica");
            assertEquals(0, proxy.metric("pgbalancer_discovery_stale", "source", "kubernetes pg"));
        }
    }

    /** Connections user app holds on the server at {@code port}, the monitors' aside. */
    private static int appConnections(int port) throws Exception {
        try (Connection c = DriverManager.getConnection(TestCluster.get().jdbcUrl(port, "app"), "postgres", "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"
                     + " AND application_name <> 'pgbalancer-monitor'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void twoInstancesShareEachServersMaxConnections() throws Exception {
        int primary = TestCluster.get().primaryPort();
        int replica = TestCluster.get().replicaPorts().get(2);
        admin.resource(slice("pg-rw", "pg-rw", primary, "pg-0")).create();
        admin.resource(slice("pg-ro", "pg-ro", replica, "pg-3")).create();
        admin.resource(new EndpointSliceBuilder(slice("pgbalancer", "pgbalancer", 6432, "pgbalancer-a"))
                .addNewEndpoint().withAddresses("127.0.0.2")
                .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
                .withNewTargetRef().withKind("Pod").withName("pgbalancer-b").withNamespace(NAMESPACE).endTargetRef()
                .endEndpoint().build()).create();
        String discovery = "discovery: {kubernetes: {namespace: " + NAMESPACE + ", roles: services,"
                + " primary_service: pg-rw, replica_service: pg-ro, max_connections: 4, peers: pgbalancer}}\n"
                + "pool: {size: 10, checkout_timeout: 30s}\nbackends: []\n";
        try (KubernetesClient clientA = client(); KubernetesClient clientB = client();
             TestProxy a = TestProxy.startFrom(TestProxy.temporaryFile(TestProxy.yaml(discovery)), clientA,
                     "pgbalancer-a");
             TestProxy b = TestProxy.startFrom(TestProxy.temporaryFile(TestProxy.yaml(discovery)), clientB,
                     "pgbalancer-b")) {
            Poll.until(Duration.ofSeconds(20), "both instances to read on the replica", () -> {
                for (TestProxy p : List.of(a, b)) {
                    try (Connection c = p.connect(); Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        if (rs.getInt(1) != replica) {
                            return false;
                        }
                    }
                }
                return true;
            });
            // 6 clients per instance hold a read transaction on the replica at once: at most 2 connections each
            AtomicInteger peak = new AtomicInteger();
            AtomicBoolean holding = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<?>> clients = new ArrayList<>();
            for (TestProxy p : List.of(a, b)) {
                for (int i = 0; i < 6; i++) {
                    clients.add(pool.submit(() -> {
                        try (Connection c = p.connect(); Statement st = c.createStatement()) {
                            for (int round = 0; round < 3; round++) {
                                st.execute("SELECT pg_sleep(0.3)");
                            }
                        }
                        return null;
                    }));
                }
            }
            Thread watcher = new Thread(() -> {
                while (holding.get()) {
                    try {
                        peak.accumulateAndGet(appConnections(replica), Math::max);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            watcher.start();
            for (Future<?> f : clients) {
                f.get(60, TimeUnit.SECONDS);
            }
            holding.set(false);
            watcher.join();
            pool.shutdown();
            System.out.printf("shared budget: at most %d connections on the replica from two instances"
                    + " (max_connections 4)%n", peak.get());
            assertTrue(peak.get() <= 4, "two instances together opened " + peak.get() + " connections to a server"
                    + " whose budget is 4");
            assertTrue(peak.get() >= 3, "the load used the budget: " + peak.get());
        }
    }
}

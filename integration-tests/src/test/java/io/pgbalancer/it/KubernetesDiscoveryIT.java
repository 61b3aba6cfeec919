// purpose: Kubernetes discovery against fabric8's mock API server (CRUD mode) with real PostgreSQL servers as the
// endpoints: a replica's EndpointSlice added then deleted while 8 clients read, the API server failing and coming
// back, and two pgbalancer instances sharing one budget of max_connections per server.
package io.pgbalancer.it;

import static io.pgbalancer.it.MockKubernetes.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KubernetesDiscoveryIT {
    private static final String NAMESPACE = MockKubernetes.NAMESPACE;
    private static final int CLIENTS = 8;

    private MockKubernetes api;

    @BeforeEach
    void api() {
        api = new MockKubernetes();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    /**
     * Slices of Service pg for the primary and the first replica, and a configuration that discovers pg with roles
     * auto, {@code http} and {@code extra} (more discovery.kubernetes keys).
     */
    private String primaryAndFirstReplica(String http, String extra) {
        api.admin.resource(slice("pg-primary", "pg", TestCluster.get().primaryPort(), "pg-0")).create();
        api.admin.resource(slice("pg-r0", "pg", TestCluster.get().replicaPorts().get(0), "pg-1")).create();
        return TestProxy.yaml(http + "backends: []\n"
                + "discovery: {kubernetes: {namespace: " + NAMESPACE + ", roles: auto, service: pg, " + extra
                + "}}\n");
    }

    @Test
    void aReplicaSliceAddedThenDeletedWhileEightClientsReadWithoutAnError() throws Exception {
        int replica0 = TestCluster.get().replicaPorts().get(0);
        int replica1 = TestCluster.get().replicaPorts().get(1);
        String yaml = primaryAndFirstReplica(TestProxy.metricsYaml(), "port: postgres");
        try (KubernetesClient client = api.client();
             TestProxy proxy = TestProxy.startFrom(TestProxy.temporaryFile(yaml), client, "pgbalancer-0")) {
            api.awaitWatches(1);
            try (ReadLoad load = new ReadLoad(proxy, CLIENTS)) {
                Poll.until(Duration.ofSeconds(30), "reads on the first replica",
                        () -> load.on(replica0) > 0 || load.failed());

                api.admin.resource(slice("pg-r1", "pg", replica1, "pg-2")).create();
                long added = System.nanoTime();
                Poll.until(Duration.ofSeconds(10), "a read on the replica whose slice was added",
                        () -> load.on(replica1) > 0 || load.failed());
                long servedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - added);

                api.admin.resource(slice("pg-r0", "pg", replica0, "pg-1")).delete();
                Poll.until(Duration.ofSeconds(10), "the deletion to be applied", () -> proxy.metric(
                        "pgbalancer_endpoint_changes_total", "source", "kubernetes pg") >= 3);
                load.avoid(replica0);
                long after = load.on(replica1);
                Poll.until(Duration.ofSeconds(10), "more reads after the deletion",
                        () -> load.on(replica1) > after + 200 || load.failed());
                System.out.printf("kubernetes discovery: the added replica served its first read %d ms after its"
                        + " EndpointSlice was created; reads by port %s%n", servedMillis, load.byPort());
                assertEquals(0, load.strays(), "reads that started after the deletion ran on the deleted replica");
            } // closing the load fails the test with every client error
            assertEquals(0, proxy.metric("pgbalancer_discovery_stale", "source", "kubernetes pg"));
        }
    }

    @Test
    void theApiServerFailingKeepsTheLastServersAndReadySaysStaleUntilItAnswersAgain() throws Exception {
        int replica0 = TestCluster.get().replicaPorts().get(0);
        int replica1 = TestCluster.get().replicaPorts().get(1);
        String http = TestProxy.metricsYaml();
        String yaml = primaryAndFirstReplica(http, "stale_after: 2s");
        int httpPort = Integer.parseInt(http.replaceAll("(?s).*port: (\\d+).*", "$1"));
        try (KubernetesClient client = api.client();
             TestProxy proxy = TestProxy.startFrom(TestProxy.temporaryFile(yaml), client, "pgbalancer-0")) {
            api.awaitWatches(1);
            try (ReadLoad load = new ReadLoad(proxy, 4)) {
                Poll.until(Duration.ofSeconds(30), "reads on the replica", () -> load.on(replica0) > 0
                        || load.failed());
                api.failWith(500);
                Poll.until(Duration.ofSeconds(20), "discovery to be reported stale", () -> proxy.metric(
                        "pgbalancer_discovery_stale", "source", "kubernetes pg") == 1);
                assertTrue(proxy.metric("pgbalancer_discovery_failures_total", "source", "kubernetes pg") > 0,
                        "the failed refreshes are counted");
                String ready = get(httpPort, "/ready");
                assertTrue(ready.contains("\"ready\":true") && ready.contains("\"discovery_stale\":true")
                        && ready.contains("endpoint discovery is stale"), ready);
                long during = load.on(replica0);
                Poll.until(Duration.ofSeconds(10), "reads to go on with the last known servers",
                        () -> load.on(replica0) > during + 100 || load.failed());

                api.answer();
                Poll.until(Duration.ofSeconds(30), "discovery to recover", () -> proxy.metric(
                        "pgbalancer_discovery_stale", "source", "kubernetes pg") == 0);
                api.admin.resource(slice("pg-r1", "pg", replica1, "pg-2")).create();
                Poll.until(Duration.ofSeconds(30), "a change after the recovery to be applied",
                        () -> load.on(replica1) > 0 || load.failed());
            } // closing the load fails the test with every client error
            assertTrue(get(httpPort, "/ready").contains("\"discovery_stale\":false"));
        }
    }

    private static String get(int port, String path) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void twoInstancesShareEachServersMaxConnections() throws Exception {
        int primary = TestCluster.get().primaryPort();
        int replica = TestCluster.get().replicaPorts().get(2);
        api.admin.resource(slice("pg-rw", "pg-rw", primary, "pg-0")).create();
        api.admin.resource(slice("pg-ro", "pg-ro", replica, "pg-3")).create();
        api.admin.resource(new EndpointSliceBuilder(slice("pgbalancer", "pgbalancer", 6432, "pgbalancer-a"))
                .addNewEndpoint().withAddresses("127.0.0.2")
                .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
                .withNewTargetRef().withKind("Pod").withName("pgbalancer-b").withNamespace(NAMESPACE).endTargetRef()
                .endEndpoint().build()).create();
        String discovery = "discovery: {kubernetes: {namespace: " + NAMESPACE + ", roles: services,"
                + " primary_service: pg-rw, replica_service: pg-ro, max_connections: 4, peers: pgbalancer}}\n"
                + "pool: {size: 10, checkout_timeout: 30s}\nbackends: []\n";
        try (KubernetesClient clientA = api.client(); KubernetesClient clientB = api.client();
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
                        peak.accumulateAndGet(Servers.appConnections(replica), Math::max);
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

// purpose: DNS discovery with real servers: a name's records come and go (a test resolver answers) while 8 clients
// read; a new server takes reads soon after the answer changes, a removed one drains, and no client sees an error.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.sql.Connection;
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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DnsDiscoveryIT {
    private static final int CLIENTS = 8;

    @Test
    void aReplicaAppearsAndDisappearsInDnsWhileClientsReadWithoutAnError() throws Exception {
        int primary = TestCluster.get().primaryPort();
        int replica = TestCluster.get().replicaPorts().get(0);
        Map<String, List<InetAddress>> answers = new ConcurrentHashMap<>();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        answers.put("primary.pg.test", List.of(loopback));
        answers.put("replicas.pg.test", List.of());
        String http = TestProxy.metricsYaml();
        String yaml = TestProxy.yaml(http + "backends: []\n"
                + "discovery:\n  dns:\n"
                + "    - {name: primary.pg.test, port: " + primary + ", role: auto, interval: 100ms}\n"
                + "    - {name: replicas.pg.test, port: " + replica + ", role: auto, interval: 100ms}\n");
        String replicasSource = "dns replicas.pg.test:" + replica;
        try (TestProxy proxy = TestProxy.startFrom(TestProxy.temporaryFile(yaml),
                name -> answers.getOrDefault(name, List.of()))) {
            AtomicBoolean running = new AtomicBoolean(true);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Map<Integer, AtomicLong> readsByPort = new ConcurrentHashMap<>();
            AtomicLong removedAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong onRemovedAfter = new AtomicLong();
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
                                if (port == replica && started - removedAt.get() > 0) {
                                    onRemovedAfter.incrementAndGet();
                                }
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            Poll.until(Duration.ofSeconds(30), "reads (on the primary: no replica yet)",
                    () -> readsByPort.containsKey(primary) || !errors.isEmpty());

            answers.put("replicas.pg.test", List.of(loopback));
            long added = System.nanoTime();
            Poll.until(Duration.ofSeconds(10), "a read on the replica DNS now lists",
                    () -> readsByPort.containsKey(replica) || !errors.isEmpty());
            long servedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - added);
            long before = readsByPort.get(replica).get();
            Poll.until(Duration.ofSeconds(10), "more reads on the replica", () -> readsByPort.get(replica).get()
                    > before + 100 || !errors.isEmpty());

            answers.put("replicas.pg.test", List.of());
            Poll.until(Duration.ofSeconds(10), "the removal to be applied", () -> proxy.metric(
                    "pgbalancer_endpoint_changes_total", "source", replicasSource) == 3);
            removedAt.set(System.nanoTime());
            long primaryReads = readsByPort.get(primary).get();
            Poll.until(Duration.ofSeconds(10), "reads back on the primary", () -> readsByPort.get(primary).get()
                    > primaryReads + 100 || !errors.isEmpty());
            running.set(false);
            for (Future<?> f : clients) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            System.out.printf("dns discovery: the new replica served its first read %d ms after the answer changed"
                    + " (interval 100ms); reads by port %s%n", servedMillis, readsByPort);
            if (!errors.isEmpty()) {
                AssertionError failure = new AssertionError(errors.size() + " client error(s)");
                errors.forEach(failure::addSuppressed);
                throw failure;
            }
            assertEquals(0, onRemovedAfter.get(), "reads started after the removal ran on the removed replica");
            assertEquals(0, proxy.metric("pgbalancer_discovery_stale", "source", replicasSource));
        }
    }
}

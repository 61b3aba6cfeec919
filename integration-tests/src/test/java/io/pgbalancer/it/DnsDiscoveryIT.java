// purpose: DNS discovery with real servers: a name's records come and go (a test resolver answers) while 8 clients
// read; a new server takes reads soon after the answer changes, a removed one drains, and no client sees an error.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
            long servedMillis;
            try (ReadLoad load = new ReadLoad(proxy, CLIENTS)) {
                Poll.until(Duration.ofSeconds(30), "reads (on the primary: no replica yet)",
                        () -> load.on(primary) > 0 || load.failed());

                answers.put("replicas.pg.test", List.of(loopback));
                long added = System.nanoTime();
                Poll.until(Duration.ofSeconds(10), "a read on the replica DNS now lists",
                        () -> load.on(replica) > 0 || load.failed());
                servedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - added);
                long before = load.on(replica);
                Poll.until(Duration.ofSeconds(10), "more reads on the replica",
                        () -> load.on(replica) > before + 100 || load.failed());

                answers.put("replicas.pg.test", List.of());
                Poll.until(Duration.ofSeconds(10), "the removal to be applied", () -> proxy.metric(
                        "pgbalancer_endpoint_changes_total", "source", replicasSource) == 3);
                load.avoid(replica);
                long primaryReads = load.on(primary);
                Poll.until(Duration.ofSeconds(10), "reads back on the primary",
                        () -> load.on(primary) > primaryReads + 100 || load.failed());
                System.out.printf("dns discovery: the new replica served its first read %d ms after the answer"
                        + " changed (interval 100ms); reads by port %s%n", servedMillis, load.byPort());
                assertEquals(0, load.strays(), "reads started after the removal ran on the removed replica");
            } // closing the load fails the test with every client error
            assertEquals(0, proxy.metric("pgbalancer_discovery_stale", "source", replicasSource));
        }
    }
}

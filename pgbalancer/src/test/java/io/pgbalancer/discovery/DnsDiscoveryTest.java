// DNS discovery into the router: a test resolver answers 1, then 3, then 2 addresses; failures keep the last servers.
package io.pgbalancer.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.DnsDiscovery;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.Role;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DnsDiscoveryTest {
    private static final DnsDiscovery REPLICAS = new DnsDiscovery("pg-replicas.db.svc", 5433, Role.REPLICA,
            Duration.ofHours(1), 2, 10);

    private static List<InetAddress> addresses(String... ips) throws UnknownHostException {
        InetAddress[] out = new InetAddress[ips.length];
        for (int i = 0; i < ips.length; i++) {
            out[i] = InetAddress.getByName(ips[i]);
        }
        return List.of(out);
    }

    /** Records what a source reports. */
    private static final class Recorder implements EndpointSource.Listener {
        final LinkedBlockingQueue<List<Backend>> lists = new LinkedBlockingQueue<>();
        volatile String problem;

        @Override
        public void servers(EndpointSource source, List<Backend> servers) {
            lists.add(servers);
        }

        @Override
        public void health(EndpointSource source, String why) {
            problem = why;
        }
    }

    @Test
    void eachAnswerBecomesTheServerListAndOnlyChangesArePublished() throws Exception {
        AtomicReference<Object> answer = new AtomicReference<>(addresses("10.0.0.1"));
        @SuppressWarnings("unchecked")
        Resolver resolver = name -> {
            Object a = answer.get();
            if (a instanceof UnknownHostException e) {
                throw e;
            }
            return (List<InetAddress>) a;
        };
        DnsSource source = new DnsSource(REPLICAS, resolver);
        Recorder rec = new Recorder();
        source.refresh(rec);
        assertEquals(List.of(new Backend("10.0.0.1", 5433, Role.REPLICA, 2, 10)), rec.lists.poll());
        answer.set(addresses("10.0.0.3", "10.0.0.1", "10.0.0.2"));
        source.refresh(rec);
        assertEquals(List.of("10.0.0.1", "10.0.0.2", "10.0.0.3"),
                rec.lists.poll().stream().map(Backend::host).toList(), "sorted: the order of records is no change");
        answer.set(addresses("10.0.0.2", "10.0.0.1", "10.0.0.3"));
        source.refresh(rec);
        assertNull(rec.lists.poll(), "the same addresses in another order publish nothing");
        answer.set(new UnknownHostException("pg-replicas.db.svc: Temporary failure in name resolution"));
        source.refresh(rec);
        assertNull(rec.lists.poll(), "a failed lookup keeps the last list");
        assertEquals(1, source.failures(), "the failed lookup is counted");
        assertEquals("cannot resolve pg-replicas.db.svc: pg-replicas.db.svc: Temporary failure in name resolution",
                rec.problem);
        answer.set(addresses("10.0.0.2", "10.0.0.3"));
        source.refresh(rec);
        assertNull(rec.problem, "resolving again clears the problem");
        assertEquals(List.of("10.0.0.2", "10.0.0.3"), rec.lists.poll().stream().map(Backend::host).toList());
    }

    @Test
    void theRouterFollowsOneThenThreeThenTwoAddressesKeepingNodesThatStay() throws Exception {
        PgBalancerConfig config = ConfigLoader.parse("auth: {users: [{name: app, password: x}]}\n"
                + "backends: [{host: db0, port: 5432, role: primary}]\n", Map.of(), "test");
        Router router = new Router(config);
        AtomicReference<List<InetAddress>> answer = new AtomicReference<>(addresses("10.0.0.1"));
        DnsSource source = new DnsSource(REPLICAS, name -> answer.get());
        LinkedBlockingQueue<Router.TopologyChange> applied = new LinkedBlockingQueue<>();
        try (ServerCatalog catalog = new ServerCatalog(config.backends(), List.of(source),
                servers -> applied.add(router.apply(servers, config.routing())))) {
            source.refresh(catalog);
            assertEquals(1, applied.poll(5, TimeUnit.SECONDS).added().size());
            assertEquals(List.of("db0:5432", "10.0.0.1:5433"), addresses(router));
            BackendNode first = router.node("10.0.0.1:5433");

            answer.set(addresses("10.0.0.1", "10.0.0.2", "10.0.0.3"));
            source.refresh(catalog);
            assertEquals(2, applied.poll(5, TimeUnit.SECONDS).added().size());
            assertEquals(List.of("db0:5432", "10.0.0.1:5433", "10.0.0.2:5433", "10.0.0.3:5433"), addresses(router));
            assertSame(first, router.node("10.0.0.1:5433"), "a server that stays keeps its node (pools, counters)");

            answer.set(addresses("10.0.0.1", "10.0.0.3"));
            source.refresh(catalog);
            Router.TopologyChange change = applied.poll(5, TimeUnit.SECONDS);
            assertEquals(List.of("10.0.0.2:5433"), change.removed().stream().map(n -> n.backend().address()).toList());
            assertTrue(change.removed().get(0).isRetired(), "the removed server drains");
            assertEquals(List.of("db0:5432", "10.0.0.1:5433", "10.0.0.3:5433"), addresses(router));
            assertEquals(3, catalog.sources().get(0).changes(), "three lists were reported");
        }
    }

    @Test
    void aServerListedStaticallyAndDiscoveredKeepsItsStaticEntry() throws Exception {
        DnsSource source = new DnsSource(REPLICAS, name -> addresses("10.0.0.1", "10.0.0.2"));
        Backend pinned = new Backend("10.0.0.1", 5433, Role.REPLICA, 5, null);
        try (ServerCatalog catalog = new ServerCatalog(List.of(pinned), List.of(source), servers -> { })) {
            source.refresh(catalog);
            assertEquals(List.of(pinned, new Backend("10.0.0.2", 5433, Role.REPLICA, 2, 10)), catalog.merged());
        }
    }

    private static List<String> addresses(Router router) {
        return router.nodes().stream().map(n -> n.backend().address()).toList();
    }
}

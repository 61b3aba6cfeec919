// Router.apply on reload: which servers keep their node, which get a new one, retirement, listeners and reads after.
package io.pgbalancer.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.causal.Lsn;
import io.pgbalancer.causal.ProxySettings;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouterReloadTest {
    private static final String USERS = "auth: {users: [{name: app, password: s3cret}]}\n";

    private static PgBalancerConfig config(String backendsAndMore) throws Exception {
        return ConfigLoader.parse(USERS + backendsAndMore, Map.of(), "test");
    }

    private static final String THREE = """
            backends:
              - {host: db0, port: 5432, role: primary}
              - {host: db1, port: 5433, role: replica}
              - {host: db2, port: 5434, role: replica, max_connections: 4}
            """;

    /** The servers {@code n} sequential reads go to (each finishes before the next starts). */
    private static Set<BackendNode> reads(Router router, int n) {
        Set<BackendNode> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            BackendNode chosen = router.forRead(Lsn.NONE, ProxySettings.UNBOUNDED);
            assertNotNull(chosen, "no server for a read");
            chosen.checkedOut();
            chosen.checkedIn();
            seen.add(chosen);
        }
        return seen;
    }

    @Test
    void anUnchangedServerAndAReweightedOneKeepTheirNodesAndTheirState() throws Exception {
        Router router = new Router(config(THREE));
        BackendNode db0 = router.node("db0:5432");
        BackendNode db1 = router.node("db1:5433");
        BackendNode db2 = router.node("db2:5434");
        db1.checkedOut(); // a transaction in flight across the reload
        db2.banByAdmin();
        List<Router.TopologyChange> heard = new ArrayList<>();
        router.onChange(heard::add);

        Router.TopologyChange change = router.apply(config("""
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica, weight: 5}
                  - {host: db2, port: 5434, role: replica, max_connections: 9}
                """));

        assertTrue(change.isEmpty(), change.toString());
        assertEquals(List.of(change), heard, "listeners hear every apply, even one that adds and removes nothing");
        assertSame(db0, router.primary());
        assertSame(db1, router.node("db1:5433"), "a re-weighted server keeps its node");
        assertSame(db2, router.node("db2:5434"), "a server with a new max_connections keeps its node");
        assertEquals(List.of(db0, db1, db2), router.nodes());
        assertEquals(5, db1.weight(), "the weight is updated in place");
        assertEquals(5, db1.backend().weight());
        assertEquals(9, db2.backend().maxConnections());
        assertEquals(1, db1.inUse(), "the transaction in flight is still counted");
        assertTrue(db2.isBannedByAdmin(), "an admin ban survives a reload");
        for (BackendNode n : List.of(db0, db1, db2)) {
            assertFalse(n.isRetired(), n + " retired");
        }
    }

    @Test
    void aNewWeightChangesTheShareOfReadsAtOnce() throws Exception {
        Router router = new Router(config("""
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica}
                  - {host: db2, port: 5434, role: replica}
                routing: {balance: round-robin}
                """));
        router.apply(config("""
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica, weight: 3}
                  - {host: db2, port: 5434, role: replica}
                routing: {balance: round-robin}
                """));
        BackendNode db1 = router.node("db1:5433");
        int toDb1 = 0;
        for (int i = 0; i < 40; i++) {
            if (router.forRead(Lsn.NONE, ProxySettings.UNBOUNDED) == db1) {
                toDb1++;
            }
        }
        assertEquals(30, toDb1, "weight 3 against 1: three reads in four");
    }

    @Test
    void removedServersAreRetiredAndNeverReadFromAddedOnesAreUsed() throws Exception {
        Router router = new Router(config(THREE));
        BackendNode db1 = router.node("db1:5433");
        BackendNode db2 = router.node("db2:5434");
        List<Router.TopologyChange> heard = new ArrayList<>();
        List<List<BackendNode>> nodesSeenByListener = new ArrayList<>();
        router.onChange(c -> {
            heard.add(c);
            nodesSeenByListener.add(router.nodes());
        });

        Router.TopologyChange change = router.apply(config("""
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica}
                  - {host: db3, port: 5435, role: replica}
                """));

        BackendNode db3 = router.node("db3:5435");
        assertNotNull(db3);
        assertEquals(List.of(db3), change.added());
        assertEquals(List.of(db2), change.removed());
        assertEquals(List.of(change), heard);
        assertTrue(nodesSeenByListener.get(0).contains(db3) && !nodesSeenByListener.get(0).contains(db2),
                "listeners run after the switch: " + nodesSeenByListener.get(0));
        assertTrue(db2.isRetired());
        assertFalse(db1.isRetired());
        assertFalse(db3.isRetired());
        assertNull(router.node("db2:5434"));
        assertFalse(router.nodes().contains(db2));
        assertEquals(Set.of(db1, db3), reads(router, 20), "reads go to the kept and the added replica only");
        assertFalse(router.hasReplicas() && router.topology().replicas().contains(db2));
    }

    @Test
    void theLastReplicaRemovedLeavesReadsToThePrimaryUnderFallback() throws Exception {
        Router router = new Router(config(THREE));
        BackendNode db0 = router.primary();
        Router.TopologyChange change = router.apply(config("""
                backends:
                  - {host: db0, port: 5432, role: primary}
                """));
        assertEquals(2, change.removed().size());
        assertFalse(router.hasReplicas());
        assertNull(router.forRead(Lsn.NONE, ProxySettings.UNBOUNDED), "no replica for a read");
        assertSame(db0, router.topology().selector().forRead(), "primary_reads: fallback sends it to the primary");
    }

    @Test
    void aRoleChangeMakesNewNodesAndRetiresTheOldOnes() throws Exception {
        Router router = new Router(config(THREE));
        BackendNode oldPrimary = router.node("db0:5432");
        BackendNode oldDb1 = router.node("db1:5433");
        BackendNode db2 = router.node("db2:5434");

        Router.TopologyChange change = router.apply(config("""
                backends:
                  - {host: db0, port: 5432, role: replica}
                  - {host: db1, port: 5433, role: primary}
                  - {host: db2, port: 5434, role: replica, max_connections: 4}
                """));

        BackendNode newPrimary = router.primary();
        BackendNode newDb0 = router.node("db0:5432");
        assertEquals("db1:5433", newPrimary.backend().address());
        assertTrue(newPrimary.isPrimary());
        assertNotSame(oldDb1, newPrimary, "a replica promoted in the file is a new node");
        assertNotSame(oldPrimary, newDb0, "a primary demoted in the file is a new node");
        assertFalse(newDb0.isPrimary());
        assertSame(db2, router.node("db2:5434"));
        assertTrue(oldPrimary.isRetired() && oldDb1.isRetired());
        assertFalse(newPrimary.isRetired() || newDb0.isRetired() || db2.isRetired());
        assertEquals(Set.of(newPrimary, newDb0), Set.copyOf(change.added()));
        assertEquals(Set.of(oldPrimary, oldDb1), Set.copyOf(change.removed()));
        Set<BackendNode> read = reads(router, 20);
        assertEquals(Set.of(newDb0, db2), read);
    }

    @Test
    void primaryFollowsANewPrimaryAddress() throws Exception {
        Router router = new Router(config(THREE));
        BackendNode oldPrimary = router.primary();
        BackendNode db1 = router.node("db1:5433");
        Router.TopologyChange change = router.apply(config("""
                backends:
                  - {host: db9, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica}
                  - {host: db2, port: 5434, role: replica, max_connections: 4}
                """));
        assertEquals("db9:5432", router.primary().backend().address());
        assertSame(router.primary(), router.topology().selector().primary(), "the selector's primary too");
        assertEquals(List.of(router.primary()), change.added());
        assertEquals(List.of(oldPrimary), change.removed());
        assertTrue(oldPrimary.isRetired());
        assertSame(db1, router.node("db1:5433"));
    }

    @Test
    void aServerRemovedAndAddedAgainGetsAFreshNode() throws Exception {
        Router router = new Router(config(THREE));
        BackendNode db2 = router.node("db2:5434");
        router.apply(config("""
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica}
                """));
        Router.TopologyChange back = router.apply(config(THREE));
        BackendNode again = router.node("db2:5434");
        assertNotSame(db2, again, "the retired node is not brought back");
        assertEquals(List.of(again), back.added());
        assertTrue(db2.isRetired());
        assertFalse(again.isRetired());
    }

    @Test
    void newRoutingOptionsApplyToTheKeptServers() throws Exception {
        Router router = new Router(config(THREE));
        router.node("db1:5433").banByAdmin();
        router.node("db2:5434").banByAdmin();
        assertNull(router.forRead(Lsn.NONE, ProxySettings.UNBOUNDED), "both replicas banned");
        router.apply(config(THREE + "routing: {primary_reads: always}\n"));
        assertSame(router.primary(), router.forRead(Lsn.NONE, ProxySettings.UNBOUNDED),
                "primary_reads: always takes effect with the reload");
    }
}

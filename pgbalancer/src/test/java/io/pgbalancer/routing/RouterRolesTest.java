// Roles that the monitor decides: role auto servers become primary or replica by poll, at most one primary, waiters.
package io.pgbalancer.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.causal.Lsn;
import io.pgbalancer.causal.ProxySettings;
import io.pgbalancer.config.Backend;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.Role;
import io.pgbalancer.config.Routing;
import io.pgbalancer.monitor.BackendStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RouterRolesTest {
    private static final Backend A = new Backend("db0", 5432, Role.AUTO, 1, null);
    private static final Backend B = new Backend("db1", 5432, Role.AUTO, 1, null);
    private static final Backend C = new Backend("db2", 5432, Role.AUTO, 1, null);

    private static Router router(List<Backend> backends) throws Exception {
        PgBalancerConfig config = ConfigLoader.parse("auth: {users: [{name: app, password: x}]}\n"
                + "backends: [{host: seed, port: 5432, role: primary}]\n", Map.of(), "test");
        Router router = new Router(config);
        router.apply(backends, Routing.defaults());
        return router;
    }

    private static void seen(BackendNode n, boolean inRecovery) {
        n.status(new BackendStatus(true, inRecovery, 100, 100, -1, 0, 0, System.nanoTime(),
                System.currentTimeMillis(), null));
    }

    private static void down(BackendNode n) {
        n.status(n.status().failed("connection refused", System.nanoTime()));
    }

    private static BackendNode node(Router r, Backend b) {
        return r.node(b.address());
    }

    @Test
    void autoServersPlayTheRoleTheMonitorSawAndNothingBeforeTheFirstPoll() throws Exception {
        Router r = router(List.of(A, B, C));
        assertNull(r.primary(), "no poll yet: no primary");
        assertFalse(r.hasReplicas());
        assertEquals(3, r.nodes().size(), "every server is listed (and polled) whatever its role");
        seen(node(r, A), false);
        seen(node(r, B), true);
        r.refreshRoles();
        assertSame(node(r, A), r.primary());
        assertEquals(List.of(node(r, B)), r.topology().replicas(), "C is not polled yet: no reads");
        assertSame(node(r, B), r.forRead(Lsn.NONE, ProxySettings.UNBOUNDED));
        assertSame(node(r, A), r.nodes().get(0), "the primary is listed first");
    }

    @Test
    void aPromotedReplicaBecomesThePrimaryOnceTheOldOneIsGone() throws Exception {
        Router r = router(List.of(A, B));
        seen(node(r, A), false);
        seen(node(r, B), true);
        r.refreshRoles();
        AtomicInteger woken = new AtomicInteger();
        down(node(r, A));
        r.refreshRoles();
        assertNull(r.primary(), "the primary stopped answering");
        assertTrue(r.whyNoPrimary().contains("no server answers the monitor as a primary"), r.whyNoPrimary());
        r.awaitPrimary(woken::incrementAndGet);
        assertEquals(0, woken.get());
        seen(node(r, B), false); // promoted
        r.refreshRoles();
        assertSame(node(r, B), r.primary());
        assertEquals(1, woken.get(), "a session waiting for a primary is woken");
        assertEquals(List.of(), r.topology().replicas());
    }

    @Test
    void twoServersOutOfRecoveryMakeNoPrimaryRatherThanAGuess() throws Exception {
        Router r = router(List.of(A, B));
        seen(node(r, A), false);
        seen(node(r, B), false);
        r.refreshRoles();
        assertNull(r.primary());
        assertEquals("servers db0:5432 and db1:5432 both accept writes", r.whyNoPrimary());
        seen(node(r, A), true); // the old one comes back as a standby
        r.refreshRoles();
        assertSame(node(r, B), r.primary());
        assertEquals(List.of(node(r, A)), r.topology().replicas());
    }

    @Test
    void aConfiguredPrimaryTheMonitorFindsInRecoveryTakesNoWrites() throws Exception {
        Backend primary = new Backend("db0", 5432, Role.PRIMARY, 1, null);
        Backend replica = new Backend("db1", 5432, Role.REPLICA, 1, null);
        Router r = router(List.of(primary, replica));
        assertSame(node(r, primary), r.primary(), "configured: the primary before any poll");
        seen(node(r, primary), true);
        r.refreshRoles();
        assertNull(r.primary());
        assertEquals("the primary db0:5432 is in recovery", r.whyNoPrimary());
        down(node(r, primary));
        r.refreshRoles();
        assertNull(r.primary(), "last seen in recovery: no writes while it does not answer either");
        seen(node(r, primary), false);
        r.refreshRoles();
        assertSame(node(r, primary), r.primary(), "a poll finds it out of recovery: writes again");
    }

    @Test
    void aServerThatChangesRoleKeepsWhatTheMonitorSawSoAStandbyIsNotTrustedWithWrites() throws Exception {
        Backend primary = new Backend("db0", 5432, Role.PRIMARY, 1, null);
        Backend replica = new Backend("db1", 5432, Role.REPLICA, 1, null);
        Router r = router(List.of(primary, replica));
        seen(node(r, replica), true);
        // a label flips before the promotion finished: db1 is now named primary, db0 is gone
        r.apply(List.of(new Backend("db1", 5432, Role.PRIMARY, 1, null)), Routing.defaults());
        assertNull(r.primary(), "the new primary node carries db1's last status: in recovery");
        seen(r.node("db1:5432"), false);
        r.refreshRoles();
        assertSame(r.node("db1:5432"), r.primary(), "promoted: it takes writes");
    }

    @Test
    void aWaiterRegisteredWhileAPrimaryExistsIsWokenAtOnceAndCanStopWaiting() throws Exception {
        Router r = router(List.of(A));
        AtomicInteger woken = new AtomicInteger();
        Router.PrimaryWaiter waiter = woken::incrementAndGet;
        r.awaitPrimary(waiter);
        assertTrue(r.stopAwaitingPrimary(waiter), "no primary yet: still waiting");
        seen(node(r, A), false);
        r.refreshRoles();
        assertEquals(0, woken.get(), "a waiter that stopped is not woken");
        r.awaitPrimary(waiter);
        assertEquals(1, woken.get());
        assertFalse(r.stopAwaitingPrimary(waiter));
    }
}

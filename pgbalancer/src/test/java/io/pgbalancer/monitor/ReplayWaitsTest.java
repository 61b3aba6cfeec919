// Waiting reads are woken once, by the first poll of a replica that replayed their position.
package io.pgbalancer.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Role;
import io.pgbalancer.routing.BackendNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReplayWaitsTest {
    private record Waiting(long requiredLsn, List<BackendNode> woken) implements ReplayWaits.Waiter {
        @Override
        public void wake(BackendNode node) {
            woken.add(node);
        }
    }

    private static void seen(BackendNode n, long lsn) {
        n.status(new BackendStatus(true, true, lsn, lsn, -1, 0, 0, System.nanoTime(), 1, null));
    }

    @Test
    void aWaiterIsWokenOnceByAReplicaAtItsPositionAndNotBefore() {
        ReplayWaits waits = new ReplayWaits();
        AtomicInteger hurried = new AtomicInteger();
        waits.onFirstWaiter(hurried::incrementAndGet);
        BackendNode r = new BackendNode(new Backend("127.0.0.1", 2, Role.REPLICA, 1, null));
        Waiting low = new Waiting(100, new ArrayList<>());
        Waiting high = new Waiting(300, new ArrayList<>());
        waits.add(low);
        waits.add(high);
        assertEquals(1, hurried.get(), "the first waiter hurries the pollers; the second finds them fast");
        seen(r, 99);
        waits.progress(r);
        assertTrue(low.woken().isEmpty());
        seen(r, 200);
        waits.progress(r);
        waits.progress(r);
        assertEquals(List.of(r), low.woken(), "woken exactly once");
        assertTrue(high.woken().isEmpty());
        assertEquals(1, waits.size());
        assertTrue(waits.remove(high), "a waiter that gives up is removed");
        assertFalse(waits.remove(low), "a woken waiter is gone already: its timeout must not also fire");
        seen(r, 400);
        waits.progress(r);
        assertTrue(high.woken().isEmpty());
    }

    @Test
    void aBannedOrUnreachableReplicaWakesNobody() {
        ReplayWaits waits = new ReplayWaits();
        BackendNode r = new BackendNode(new Backend("127.0.0.1", 2, Role.REPLICA, 1, null));
        Waiting w = new Waiting(10, new ArrayList<>());
        waits.add(w);
        seen(r, 50);
        r.ban(60_000_000_000L);
        waits.progress(r);
        assertTrue(w.woken().isEmpty());
        r.unban();
        r.status(r.status().failed("down", System.nanoTime()));
        waits.progress(r);
        assertTrue(w.woken().isEmpty());
        seen(r, 50);
        waits.progress(r);
        assertEquals(List.of(r), w.woken());
    }
}

// Reads waiting for a replica to replay a WAL position: woken by the monitor's polls as soon as one has.
package io.pgbalancer.monitor;

import io.pgbalancer.causal.Lsn;
import io.pgbalancer.routing.BackendNode;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Thread-safe. A waiter is added from an event loop and woken (at most once) from a monitor thread; it must hop back
 * to its own loop in {@link Waiter#wake()}. A waiter that gives up (its causal_wait ran out) is simply removed.
 */
public final class ReplayWaits {
    /** A read waiting until some replica has replayed {@link #requiredLsn()}. */
    public interface Waiter {
        long requiredLsn();

        /** Called once, on a monitor thread, when {@code node} has replayed the position. */
        void wake(BackendNode node);
    }

    /** How long after the last wait the pollers keep their fast pace. */
    static final long LINGER_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private volatile long lastWaitNanos = System.nanoTime() - Long.MAX_VALUE / 2;
    private volatile Runnable onFirstWaiter = () -> {
    };

    void onFirstWaiter(Runnable hurry) {
        this.onFirstWaiter = hurry;
    }

    public void add(Waiter w) {
        boolean idle = System.nanoTime() - lastWaitNanos() > LINGER_NANOS;
        lastWaitNanos = System.nanoTime();
        waiters.add(w);
        if (idle) {
            onFirstWaiter.run();
        }
    }

    /** Removes a waiter that stopped waiting; false when it was already woken (or never added). */
    public boolean remove(Waiter w) {
        return waiters.remove(w);
    }

    /** When the last read started waiting (System.nanoTime()). */
    long lastWaitNanos() {
        return waiters.isEmpty() ? lastWaitNanos : System.nanoTime();
    }

    public int size() {
        return waiters.size();
    }

    /** A standby was polled: wakes every waiter whose position it has replayed. */
    void progress(BackendNode node) {
        if (waiters.isEmpty()) {
            return;
        }
        long replayed = node.status().lsn();
        if (!node.status().reachable() || node.isBanned()) {
            return;
        }
        for (Waiter w : waiters) {
            if (Lsn.reached(replayed, w.requiredLsn()) && waiters.remove(w)) {
                w.wake(node);
            }
        }
    }
}

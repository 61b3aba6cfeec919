// purpose: test helper: polls a condition with a deadline instead of sleeping a fixed time
package io.pgbalancer.k8s;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

final class Await {
    private Await() {
    }

    /** Polls {@code condition} (every 1 ms) for up to 10 s; fails naming {@code what} when it never holds. */
    static void until(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 10 s waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /**
     * Waits until the watcher's watches are open. The mock API server, unlike a real one, does not replay the
     * changes made between an informer's list and its watch, so tests change nothing before.
     */
    static void watching(EndpointSliceWatcher watcher) {
        until(watcher::watching, "the informers to list and watch");
    }

    static void watching(PeerBudget budget) {
        until(budget::watching, "the informer to list and watch");
    }
}

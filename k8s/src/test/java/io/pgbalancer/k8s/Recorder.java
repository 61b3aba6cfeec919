// purpose: test helper: records what a watcher publishes and waits (with a deadline) for an expected publication
package io.pgbalancer.k8s;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Also checks the publishing rules: never two equal snapshots in a row, every snapshot immutable and sorted. */
final class Recorder implements EndpointsListener, PeerListener {
    static final long TIMEOUT_SECONDS = 10;

    record Health(boolean stale, String reason) {
    }

    record Peers(int count, int rank) {
    }

    private final LinkedBlockingQueue<List<KubernetesEndpoint>> snapshots = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Health> health = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Peers> peers = new LinkedBlockingQueue<>();
    private final List<String> violations = new ArrayList<>();
    private List<KubernetesEndpoint> previous;

    @Override
    public synchronized void endpoints(List<KubernetesEndpoint> endpoints) {
        if (endpoints.equals(previous)) {
            violations.add("published the same snapshot twice: " + endpoints);
        }
        if (!endpoints.stream().sorted().toList().equals(endpoints)) {
            violations.add("not sorted: " + endpoints);
        }
        try {
            endpoints.add(endpoints.isEmpty() ? null : endpoints.get(0));
            violations.add("mutable: " + endpoints);
        } catch (UnsupportedOperationException expected) {
            // immutable, as promised
        }
        previous = endpoints;
        snapshots.add(endpoints);
    }

    @Override
    public void health(boolean stale, String reason) {
        health.add(new Health(stale, reason));
    }

    @Override
    public void peers(int count, int rank) {
        peers.add(new Peers(count, rank));
    }

    /** Waits for the next snapshot (fails after the deadline). */
    List<KubernetesEndpoint> next(String what) {
        return take(snapshots, what);
    }

    /** Skips snapshots until one matches (intermediate ones can come from the informers' listing order). */
    List<KubernetesEndpoint> until(Predicate<List<KubernetesEndpoint>> wanted, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        List<List<KubernetesEndpoint>> seen = new ArrayList<>();
        while (true) {
            List<KubernetesEndpoint> s = poll(snapshots, deadline);
            if (s == null) {
                throw new AssertionError("timed out waiting for " + what + "; snapshots seen: " + seen);
            }
            if (wanted.test(s)) {
                return s;
            }
            seen.add(s);
        }
    }

    Health nextHealth(String what) {
        return take(health, what);
    }

    Peers untilPeers(Peers wanted) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        List<Peers> seen = new ArrayList<>();
        while (true) {
            Peers p = poll(peers, deadline);
            if (p == null) {
                throw new AssertionError("timed out waiting for " + wanted + "; seen: " + seen);
            }
            if (p.equals(wanted)) {
                return p;
            }
            seen.add(p);
        }
    }

    boolean noSnapshotPending() {
        return snapshots.isEmpty();
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    private static <T> T take(LinkedBlockingQueue<T> queue, String what) {
        T value = poll(queue, System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS));
        if (value == null) {
            throw new AssertionError("timed out after " + TIMEOUT_SECONDS + " s waiting for " + what);
        }
        return value;
    }

    private static <T> T poll(LinkedBlockingQueue<T> queue, long deadline) {
        try {
            return queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}

// Watches every backend on threads of its own: normal pace at monitor.interval, fast while reads wait for replay.
package io.pgbalancer.monitor;

import io.pgbalancer.config.Monitor;
import io.pgbalancer.routing.BackendNode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread per backend polls it (see {@link BackendProbe}) and sleeps in between. While some read waits
 * for a replica to replay a position ({@link ReplayWaits}), and for a second after, standbys are polled every
 * {@code monitor.fast_interval} instead; a new waiter wakes the sleeping pollers at once. After each standby poll the
 * waiters that the standby now satisfies are woken. A reload starts pollers for added servers, stops those of
 * removed ones, and restarts them all when the monitor settings changed.
 */
public final class BackendMonitor implements AutoCloseable {
    private final Map<BackendNode, Poller> pollers = new IdentityHashMap<>();
    /** The pollers' threads, for {@link #hurry()} on an event loop without taking the lock. */
    private volatile List<Thread> threads = List.of();
    private final PrimaryHistory primaryHistory = new PrimaryHistory();
    private final ReplayWaits waits;
    private Monitor settings;
    /** How the probes reach the servers (backend_tls); pgjdbc's own default until set. */
    private io.pgbalancer.config.BackendTls tls = io.pgbalancer.config.BackendTls.defaults();
    private boolean started;
    /** Told when a poll changed whether a server answers or is in recovery (the router sorts roles again). */
    private volatile Runnable rolesChanged = () -> {
    };

    /** One backend's probe and the thread that runs it until stopped. */
    private final class Poller {
        final BackendProbe probe;
        final Thread thread;
        volatile boolean running = true;

        Poller(BackendNode node) {
            this.probe = new BackendProbe(node, settings, tls);
            this.thread = new Thread(this::run, "pgbalancer-monitor-" + node.backend().address());
            thread.setDaemon(true);
        }

        private void run() {
            long fastNanos = settings.fastInterval().toNanos();
            while (running) {
                BackendStatus before = probe.node().status();
                long pace = probe.poll(primaryHistory);
                BackendStatus after = probe.node().status();
                if (before.reachable() != after.reachable() || before.inRecovery() != after.inRecovery()) {
                    rolesChanged.run();
                }
                if (!probe.node().isPrimary()) {
                    waits.progress(probe.node());
                }
                long sleepUntil = System.nanoTime() + pace;
                while (running) {
                    long now = System.nanoTime();
                    long until = fastPace() ? Math.min(sleepUntil, probe.node().status().polledAtNanos() + fastNanos)
                            : sleepUntil;
                    if (now - until >= 0) {
                        break;
                    }
                    LockSupport.parkNanos(this, until - now); // hurry() unparks when a read starts waiting
                }
            }
        }

        private boolean fastPace() {
            return !probe.node().isPrimary() && probe.node().status().reachable()
                    && System.nanoTime() - waits.lastWaitNanos() < ReplayWaits.LINGER_NANOS;
        }

        void stop() {
            running = false;
            LockSupport.unpark(thread);
        }

        void join() {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            probe.close();
        }
    }

    public BackendMonitor(List<BackendNode> nodes, Monitor settings, ReplayWaits waits) {
        this(nodes, settings, io.pgbalancer.config.BackendTls.defaults(), waits);
    }

    /** @param tls how the probes reach the servers (backend_tls) */
    public BackendMonitor(List<BackendNode> nodes, Monitor settings, io.pgbalancer.config.BackendTls tls,
                          ReplayWaits waits) {
        this.tls = tls;
        this.waits = waits;
        this.settings = settings;
        for (BackendNode n : nodes) {
            pollers.put(n, new Poller(n));
        }
        waits.onFirstWaiter(this::hurry);
    }

    /** Called after a poll that changed whether a server answers or is in recovery. */
    public void onRolesChanged(Runnable listener) {
        rolesChanged = listener;
    }

    /** Starts polling; the first poll of every backend starts at once. */
    public synchronized BackendMonitor start() {
        started = true;
        pollers.values().forEach(p -> p.thread.start());
        threads = pollers.values().stream().map(p -> p.thread).toList();
        return this;
    }

    /**
     * Follows a reload: polls exactly {@code nodes} with {@code next} settings. Pollers of servers that stay keep
     * running unless the settings changed; a removed server's poller stops (its last status stays on its node).
     */
    public void apply(List<BackendNode> nodes, Monitor next) {
        apply(nodes, next, tls);
    }

    /** {@link #apply(List, Monitor)} with reloaded backend_tls: a change restarts every probe. */
    public void apply(List<BackendNode> nodes, Monitor next, io.pgbalancer.config.BackendTls nextTls) {
        List<Poller> stopped = new ArrayList<>();
        synchronized (this) {
            boolean restartAll = !next.equals(settings) || !nextTls.equals(tls);
            settings = next;
            tls = nextTls;
            Map<BackendNode, Boolean> wanted = new IdentityHashMap<>();
            nodes.forEach(n -> wanted.put(n, Boolean.TRUE));
            for (var it = pollers.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (restartAll || !wanted.containsKey(e.getKey())) {
                    e.getValue().stop();
                    stopped.add(e.getValue());
                    it.remove();
                }
            }
            for (BackendNode n : nodes) {
                if (!pollers.containsKey(n)) {
                    Poller p = new Poller(n);
                    pollers.put(n, p);
                    if (started) {
                        p.thread.start();
                    }
                }
            }
            threads = pollers.values().stream().map(p -> p.thread).toList();
        }
        if (!stopped.isEmpty()) { // a poll in progress may take up to its timeouts: the reload does not wait for it
            Thread closer = new Thread(() -> stopped.forEach(Poller::join), "pgbalancer-monitor-stop");
            closer.setDaemon(true);
            closer.start();
        }
    }

    /** A read started waiting for replay: pollers sleeping at normal pace poll now. */
    private void hurry() {
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void close() {
        List<Poller> all;
        synchronized (this) {
            all = new ArrayList<>(pollers.values());
            pollers.clear();
            threads = List.of();
        }
        all.forEach(Poller::stop);
        all.forEach(Poller::join);
    }
}

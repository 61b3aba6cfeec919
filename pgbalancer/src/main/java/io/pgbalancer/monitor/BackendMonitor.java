// Watches every backend on threads of its own: normal pace at monitor.interval, fast while reads wait for replay.
package io.pgbalancer.monitor;

import io.pgbalancer.config.Monitor;
import io.pgbalancer.routing.BackendNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread per backend polls it (see {@link BackendProbe}) and sleeps in between. While some read waits
 * for a replica to replay a position ({@link ReplayWaits}), and for a second after, standbys are polled every
 * {@code monitor.fast_interval} instead; a new waiter wakes the sleeping pollers at once. After each standby poll the
 * waiters that the standby now satisfies are woken.
 */
public final class BackendMonitor implements AutoCloseable {
    private final List<BackendProbe> probes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final PrimaryHistory primaryHistory = new PrimaryHistory();
    private final ReplayWaits waits;
    private final long fastNanos;
    private volatile boolean running = true;

    public BackendMonitor(List<BackendNode> nodes, Monitor settings, ReplayWaits waits) {
        this.waits = waits;
        this.fastNanos = settings.fastInterval().toNanos();
        for (BackendNode n : nodes) {
            probes.add(new BackendProbe(n, settings));
        }
        waits.onFirstWaiter(this::hurry);
    }

    /** Starts polling; the first poll of every backend starts at once. */
    public BackendMonitor start() {
        for (BackendProbe p : probes) {
            Thread t = new Thread(() -> run(p), "pgbalancer-monitor-" + p.node().backend().address());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        return this;
    }

    private void run(BackendProbe probe) {
        while (running) {
            long pace = probe.poll(primaryHistory);
            if (!probe.node().isPrimary()) {
                waits.progress(probe.node());
            }
            long sleepUntil = System.nanoTime() + pace;
            while (running) {
                long now = System.nanoTime();
                long until = fastPace(probe) ? Math.min(sleepUntil, lastPollStart(probe) + fastNanos) : sleepUntil;
                if (now - until >= 0) {
                    break;
                }
                LockSupport.parkNanos(this, until - now); // hurry() unparks when a read starts waiting
            }
        }
    }

    private boolean fastPace(BackendProbe probe) {
        return !probe.node().isPrimary() && probe.node().status().reachable()
                && System.nanoTime() - waits.lastWaitNanos() < ReplayWaits.LINGER_NANOS;
    }

    private static long lastPollStart(BackendProbe probe) {
        return probe.node().status().polledAtNanos();
    }

    /** A read started waiting for replay: pollers sleeping at normal pace poll now. */
    private void hurry() {
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        probes.forEach(BackendProbe::close);
    }
}

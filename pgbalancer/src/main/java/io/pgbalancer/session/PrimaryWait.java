// One session's wait for a primary (failover, or a primary refusing connections), bounded by routing.primary_wait.
package io.pgbalancer.session;

import io.netty.util.concurrent.ScheduledFuture;
import io.pgbalancer.routing.Router;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on the session's event loop. Woken when the topology gains a primary (unless the wait is on its timer only)
 * and every 250 ms; the deadline counts from the first attempt and carries over refused retries until a connection
 * is obtained ({@link #reset()}). At the deadline the session ends with 08006 naming the reason.
 */
final class PrimaryWait implements Router.PrimaryWaiter {
    private static final Logger log = LoggerFactory.getLogger(PrimaryWait.class);
    /** How often to try again even without news from the monitor. */
    static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final ClientSession s;
    private final Router router;
    /** Re-picks a server once the wait ends (on the session's event loop). */
    private final Runnable retry;
    /** When the wait gives up; 0 when no wait is under way. */
    private long deadline;
    private boolean waiting;
    /** Registered with the router for a wake-up (else waiting on the timer only). */
    private boolean registered;
    private ScheduledFuture<?> timer;

    PrimaryWait(ClientSession session, Router router, Runnable retry) {
        this.s = session;
        this.router = router;
        this.retry = retry;
    }

    /** Whether a wait for a primary is under way (so a refusal need not be logged again). */
    boolean started() {
        return deadline != 0;
    }

    /**
     * Waits (again) for a primary; false when routing.primary_wait has passed, and then the session was ended.
     *
     * @param wakeOnChange also wake when the topology gains a primary; false when the topology still names the
     *                     primary that just refused (a wake-up would retry at once, in a loop)
     */
    boolean await(String why, boolean wakeOnChange) {
        long now = System.nanoTime();
        long wait = s.services.config().routing().primaryWait().toNanos();
        if (deadline == 0) {
            deadline = now + Math.max(1, wait);
            log.info("session {}@{} waits for a primary: {}", s.user, s.database, why);
        }
        if (now - deadline >= 0) {
            deadline = 0;
            s.terminate("08006", "pgbalancer: no primary within routing.primary_wait ("
                    + TimeUnit.NANOSECONDS.toMillis(wait) + " ms): " + why
                    + (router.hasReplicas() ? "; reads still run on the replicas" : ""));
            return false;
        }
        waiting = true;
        timer = s.loop.schedule(this::recheck, Math.min(RECHECK_NANOS, deadline - now), TimeUnit.NANOSECONDS);
        registered = wakeOnChange;
        if (wakeOnChange) {
            router.awaitPrimary(this);
        }
        return true;
    }

    /** A connection was obtained: the next wait starts a new deadline. */
    void reset() {
        deadline = 0;
    }

    /** On the thread that changed the topology. */
    @Override
    public void primaryAvailable() {
        s.loop.execute(this::ended);
    }

    private void recheck() {
        // registered: proceed only if a wake-up is not already on its way; timer only: proceed
        if (router.stopAwaitingPrimary(this) || !registered) {
            ended();
        }
    }

    private void ended() {
        if (!waiting) {
            return;
        }
        waiting = false;
        timer.cancel(false);
        if (!s.isClosed()) {
            retry.run();
        }
    }

    /** The session ended. */
    void close() {
        if (waiting) {
            waiting = false;
            router.stopAwaitingPrimary(this);
            timer.cancel(false);
        }
    }
}

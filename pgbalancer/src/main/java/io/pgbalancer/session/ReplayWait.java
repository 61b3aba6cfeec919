// One read's wait for a replica to replay the WAL position the session's consistency requires (routing.causal_wait).
package io.pgbalancer.session;

import io.netty.util.concurrent.ScheduledFuture;
import io.pgbalancer.monitor.ReplayWaits;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import java.util.concurrent.TimeUnit;

/**
 * Runs on the session's event loop, but for {@link #wake}, which the monitor calls once a replica has replayed the
 * position. The wait ends at that wake or at its deadline, whichever comes first, and then {@code retry} picks a
 * server again; a wait that starts again (the replica was banned meanwhile) keeps its first start for the
 * {@code pgbalancer_causal_wait_seconds} meter. Made by a session's first wait: most sessions never wait.
 */
final class ReplayWait implements ReplayWaits.Waiter {
    private final ClientSession s;
    private final Router router;
    /** Picks a server again once the wait ends (on the session's event loop). */
    private final Runnable retry;
    /** The position the read needs, its staleness bound, its deadline, and when the wait began. */
    private long needed;
    private long staleness;
    private long deadline;
    private long startedNanos;
    private ScheduledFuture<?> timer;
    /** A wait is under way: from its first start until {@link #finish} or {@link #abandon}. */
    private boolean waiting;

    ReplayWait(ClientSession session, Router router, Runnable retry) {
        this.s = session;
        this.router = router;
        this.retry = retry;
    }

    /** Waits (again) until a replica has replayed {@code needed}, or until {@code deadline} (System.nanoTime()). */
    void start(long needed, long staleness, long deadline) {
        this.needed = needed;
        this.staleness = staleness;
        this.deadline = deadline;
        if (!waiting) {
            waiting = true;
            startedNanos = System.nanoTime();
        }
        router.replayWaits().add(this);
        timer = s.loop.schedule(this::timedOut, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    long needed() {
        return needed;
    }

    long staleness() {
        return staleness;
    }

    long deadline() {
        return deadline;
    }

    /** The read found its server: the wait is over; how long it lasted, in nanoseconds. */
    long finish() {
        waiting = false;
        return System.nanoTime() - startedNanos;
    }

    /** The read no longer waits for replay (it now waits for a primary); a later wait starts its clock anew. */
    void abandon() {
        waiting = false;
    }

    @Override
    public long requiredLsn() {
        return needed;
    }

    /** On a monitor thread: a replica has replayed the position. */
    @Override
    public void wake(BackendNode node) {
        s.loop.execute(this::ended);
    }

    private void timedOut() {
        if (router.replayWaits().remove(this)) { // else a wake is on its way
            ended();
        }
    }

    private void ended() {
        timer.cancel(false);
        retry.run();
    }

    /** The session ended: stop waiting. */
    void close() {
        if (waiting && router.replayWaits().remove(this)) {
            timer.cancel(false);
        }
    }
}

// Liveness: every event loop of the proxy runs a no-op task within a deadline, or the process is unhealthy.
package io.pgbalancer.http;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Never blocks the thread that asks: the check submits a task to every loop and completes a promise on the asking
 * loop when all ran, or when the deadline passed with the names of the loops that did not answer.
 */
public final class Liveness {
    public static final Duration DEADLINE = Duration.ofSeconds(2);

    private final List<EventLoopGroup> groups;
    private final long deadlineNanos;

    public Liveness(List<EventLoopGroup> groups, Duration deadline) {
        this.groups = List.copyOf(groups);
        this.deadlineNanos = deadline.toNanos();
    }

    /** Checks every loop; the result completes on {@code asker}. */
    public Future<Probe> check(EventExecutor asker) {
        Promise<Probe> result = asker.newPromise();
        List<EventExecutor> loops = new ArrayList<>();
        for (EventLoopGroup g : groups) {
            g.forEach(loops::add);
        }
        boolean[] answered = new boolean[loops.size()];
        int[] pending = {loops.size()};
        long started = System.nanoTime();
        for (int i = 0; i < loops.size(); i++) {
            int at = i;
            loops.get(i).submit(() -> asker.execute(() -> {
                answered[at] = true;
                if (--pending[0] == 0 && !result.isDone()) {
                    result.trySuccess(new Probe(true, Json.object("status", "ok", "event_loops", loops.size(),
                            "answered_in_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))));
                }
            }));
        }
        asker.schedule(() -> {
            if (result.isDone()) {
                return;
            }
            List<String> late = new ArrayList<>();
            for (int i = 0; i < loops.size(); i++) {
                if (!answered[i]) {
                    late.add(loops.get(i).toString());
                }
            }
            result.trySuccess(new Probe(false, Json.object("status", "unhealthy", "reason", late.size()
                    + " of " + loops.size() + " event loops did not run a task within "
                    + TimeUnit.NANOSECONDS.toMillis(deadlineNanos) + " ms: " + String.join(", ", late))));
        }, deadlineNanos, TimeUnit.NANOSECONDS);
        return result;
    }
}

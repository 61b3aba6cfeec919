// Counts of reads by where they ran and why, and how long reads waited for a replica to catch up.
package io.pgbalancer.routing;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/** Thread-safe; the metrics registry reads the counters and receives each causal wait's duration. */
public final class ReadOutcomes {
    private final LongAdder[] counts = new LongAdder[ReadReason.values().length];
    private volatile LongConsumer waitRecorder = nanos -> {
    };

    public ReadOutcomes() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void count(ReadReason reason) {
        counts[reason.ordinal()].increment();
    }

    public long total(ReadReason reason) {
        return counts[reason.ordinal()].sum();
    }

    /** A read waited {@code nanos} for a replica to replay its position (whether one did or not). */
    public void waited(long nanos) {
        waitRecorder.accept(nanos);
    }

    /** Where wait durations go (the metrics registry's timer). */
    public void onWait(LongConsumer recorder) {
        this.waitRecorder = recorder;
    }
}

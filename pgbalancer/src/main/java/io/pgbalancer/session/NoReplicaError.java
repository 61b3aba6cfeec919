// The error a read gets when no replica may take it and routing.primary_reads is never: why, and how far off.
package io.pgbalancer.session;

import io.pgbalancer.causal.Lsn;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.ReadReason;
import io.pgbalancer.routing.Router;
import java.util.concurrent.TimeUnit;

final class NoReplicaError {
    private NoReplicaError() {
    }

    /** For a read not taken for {@code why}; {@code needed} is the WAL position it had to see. */
    static String message(Router router, ReadReason why, long needed, long causalWaitNanos) {
        return switch (why) {
            case CONSISTENCY -> {
                BackendNode closest = null;
                for (BackendNode n : router.nodes()) {
                    if (!n.isPrimary() && !n.isBanned() && (closest == null
                            || Lsn.reached(n.status().lsn(), closest.status().lsn()))) {
                        closest = n;
                    }
                }
                yield "pgbalancer: no replica replayed WAL position " + Lsn.format(needed) + " within"
                        + " routing.causal_wait (" + TimeUnit.NANOSECONDS.toMillis(causalWaitNanos) + " ms)"
                        + (closest == null ? "" : "; the closest, " + closest.backend().address() + ", is at "
                        + Lsn.format(closest.status().lsn()) + ", "
                        + Lsn.distance(needed, closest.status().lsn()) + " bytes behind")
                        + ", and routing.primary_reads is never";
            }
            case LAG -> "pgbalancer: every replica is beyond routing.max_lag and routing.primary_reads is never";
            case STALENESS -> "pgbalancer: no replica is within the read's max_staleness and routing.primary_reads"
                    + " is never";
            default -> "pgbalancer: no replica is available for a read and routing.primary_reads is never";
        };
    }
}

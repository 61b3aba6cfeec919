// The routing decisions of the running proxy: which server a transaction goes to, and which servers to avoid.
package io.pgbalancer.routing;

import io.pgbalancer.causal.CommitPositions;
import io.pgbalancer.config.Backend;
import io.pgbalancer.monitor.ReplayWaits;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.Role;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

public final class Router {
    /** How long a replica that refused a connection or died gets no reads. */
    public static final long BAN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Map<Backend, BackendNode> nodes = new IdentityHashMap<>();
    private final ReplicaSelector selector;
    private final TransactionRouter transactions;
    private final ReadOutcomes reads = new ReadOutcomes();
    private final CommitPositions commits = new CommitPositions();
    private final ReplayWaits replayWaits = new ReplayWaits();
    private final java.util.concurrent.atomic.AtomicLong retriesOnPrimary = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong retriesElsewhere = new java.util.concurrent.atomic.AtomicLong();

    public Router(PgBalancerConfig config) {
        BackendNode primary = null;
        List<BackendNode> replicas = new ArrayList<>();
        for (Backend b : config.backends()) {
            BackendNode node = new BackendNode(b);
            nodes.put(b, node);
            if (b.role() == Role.PRIMARY) {
                primary = node;
            } else {
                replicas.add(node);
            }
        }
        this.selector = new ReplicaSelector(primary, replicas, config.routing().balance(),
                config.routing().primaryReads(), config.routing().maxLag());
        this.transactions = new TransactionRouter();
    }

    public TransactionRouter transactions() {
        return transactions;
    }

    /** Whether any replica is configured. */
    public boolean hasReplicas() {
        return nodes.size() > 1;
    }

    public BackendNode primary() {
        return selector.primary();
    }

    /** A fresh enough replica for a read (see ReplicaSelector#forRead(long, long)), or null. */
    public BackendNode forRead(long requiredLsn, long maxStalenessNanos) {
        return selector.forRead(requiredLsn, maxStalenessNanos);
    }

    /** Why no replica could take a read with this staleness bound. */
    public ReadReason whyNoReplica(long maxStalenessNanos) {
        return selector.whyNot(maxStalenessNanos);
    }

    /** Commit positions learned through this pgbalancer, for causal reads. */
    public CommitPositions commits() {
        return commits;
    }

    /** Reads waiting for a replica to replay their position. */
    public ReplayWaits replayWaits() {
        return replayWaits;
    }

    /** Where reads went, and why. */
    public ReadOutcomes reads() {
        return reads;
    }

    /** Counts a read run again: on the primary after a replica refused it (25006), or elsewhere after a failure. */
    public void countRetry(boolean onPrimary) {
        (onPrimary ? retriesOnPrimary : retriesElsewhere).incrementAndGet();
    }

    /** Reads re-run on the primary because a replica answered 25006 (read-only transaction). */
    public long retriesOnPrimary() {
        return retriesOnPrimary.get();
    }

    /** Reads re-run on another server because their replica failed before answering. */
    public long retriesElsewhere() {
        return retriesElsewhere.get();
    }

    public BackendNode node(Backend backend) {
        return nodes.get(backend);
    }

    public List<BackendNode> nodes() {
        return List.copyOf(nodes.values());
    }
}

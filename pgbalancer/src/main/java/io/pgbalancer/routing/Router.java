// The routing decisions of the running proxy: which server a transaction goes to, and which servers to avoid.
package io.pgbalancer.routing;

import io.pgbalancer.causal.CommitPositions;
import io.pgbalancer.config.Backend;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.Routing;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.pgbalancer.monitor.ReplayWaits;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;

public final class Router {
    private static final Logger log = LoggerFactory.getLogger(Router.class);
    /** How long a replica that refused a connection or died gets no reads. */
    public static final long BAN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private volatile Topology topology;
    private final TransactionRouter transactions = new TransactionRouter();
    private final ReadOutcomes reads = new ReadOutcomes();
    private final CommitPositions commits = new CommitPositions();
    private final ReplayWaits replayWaits = new ReplayWaits();
    private final java.util.concurrent.atomic.AtomicLong retriesOnPrimary = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong retriesElsewhere = new java.util.concurrent.atomic.AtomicLong();
    private final List<Consumer<TopologyChange>> listeners = new CopyOnWriteArrayList<>();

    /** What a reload changed: servers that joined and servers that left (now retired). */
    public record TopologyChange(List<BackendNode> added, List<BackendNode> removed) {
        public boolean isEmpty() {
            return added.isEmpty() && removed.isEmpty();
        }
    }

    private Routing routing;
    /** Sessions waiting for a primary (none now, or it refused them); woken when the topology gets one. */
    private final Set<PrimaryWaiter> primaryWaiters = ConcurrentHashMap.newKeySet();

    /** A session waiting for a server that takes writes. */
    public interface PrimaryWaiter {
        /** On the thread that changed the topology: a primary is there now. */
        void primaryAvailable();
    }

    public Router(PgBalancerConfig config) {
        this.routing = config.routing();
        this.topology = Topology.of(config.backends(), config.routing(), Map.of());
    }

    /**
     * Switches to the servers and balancing options of a reloaded configuration. Servers that stay keep their nodes
     * (pools, counters, monitor state); removed ones are retired: their running transactions finish, no new work
     * goes there. Listeners (monitor, metrics, pools) hear about the change after the switch.
     */
    public TopologyChange apply(PgBalancerConfig config) {
        return apply(config.backends(), config.routing());
    }

    /** {@link #apply(PgBalancerConfig)} for servers from any source (configuration, discovery). */
    public synchronized TopologyChange apply(List<Backend> backends, Routing nextRouting) {
        Topology old = topology;
        Map<String, BackendNode> known = new HashMap<>();
        for (BackendNode n : old.nodes()) {
            known.put(Topology.key(n.backend()), n);
        }
        routing = nextRouting;
        Topology next = Topology.of(backends, nextRouting, known);
        Set<BackendNode> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(next.nodes());
        List<BackendNode> added = new ArrayList<>();
        for (BackendNode n : next.nodes()) {
            if (!old.nodes().contains(n)) {
                added.add(n);
            }
        }
        List<BackendNode> removed = new ArrayList<>();
        for (BackendNode n : old.nodes()) {
            if (!kept.contains(n)) {
                n.retire();
                removed.add(n);
            }
        }
        switchTo(next);
        TopologyChange change = new TopologyChange(List.copyOf(added), List.copyOf(removed));
        for (Consumer<TopologyChange> l : listeners) {
            l.accept(change);
        }
        return change;
    }

    /**
     * The monitor saw a server answer, stop answering, or change role: sorts the same servers again (a role-auto
     * server promoted becomes the primary; a configured primary found in recovery stops taking writes).
     */
    public synchronized void refreshRoles() {
        Topology old = topology;
        Topology next = Topology.classify(old.nodes(), routing);
        if (!next.signature().equals(old.signature()) || !java.util.Objects.equals(next.conflict(), old.conflict())) {
            if (next.conflict() != null) {
                log.error("no primary: {}; writes wait until one of them is back in recovery or gone",
                        next.conflict());
            } else {
                log.info("servers now: primary {}, replicas {}", next.primary() == null ? "none"
                        : next.primary().backend().address(),
                        next.replicas().stream().map(r -> r.backend().address()).toList());
            }
            switchTo(next);
        }
    }

    private void switchTo(Topology next) {
        topology = next;
        if (next.primary() != null && !primaryWaiters.isEmpty()) {
            for (PrimaryWaiter w : primaryWaiters) {
                if (primaryWaiters.remove(w)) {
                    w.primaryAvailable();
                }
            }
        }
    }

    /** Waits for a primary: {@link PrimaryWaiter#primaryAvailable()} once the topology has one. */
    public void awaitPrimary(PrimaryWaiter waiter) {
        primaryWaiters.add(waiter);
        if (topology.primary() != null && primaryWaiters.remove(waiter)) {
            waiter.primaryAvailable(); // one arrived while registering
        }
    }

    /** Stops waiting; false when a wake-up is already on its way. */
    public boolean stopAwaitingPrimary(PrimaryWaiter waiter) {
        return primaryWaiters.remove(waiter);
    }

    /** Why there is no primary now (for errors and /ready). */
    public String whyNoPrimary() {
        Topology t = topology;
        if (t.primary() != null) {
            return null;
        }
        if (t.conflict() != null) {
            return t.conflict();
        }
        for (BackendNode n : t.nodes()) {
            if (n.backend().role() == io.pgbalancer.config.Role.PRIMARY) {
                return "the primary " + n.backend().address() + " is in recovery";
            }
        }
        return t.nodes().stream().anyMatch(n -> n.backend().role() == io.pgbalancer.config.Role.AUTO)
                ? "no server answers the monitor as a primary (not in recovery)"
                : "no server is configured or discovered as the primary";
    }

    /** Called after every {@link #apply} with what changed. */
    public void onChange(Consumer<TopologyChange> listener) {
        listeners.add(listener);
    }

    /** The current view of the servers. */
    public Topology topology() {
        return topology;
    }

    public TransactionRouter transactions() {
        return transactions;
    }

    /** Whether any replica is configured. */
    public boolean hasReplicas() {
        return !topology.replicas().isEmpty();
    }

    /** The server for writes now, or null: see {@link Topology}. */
    public BackendNode primary() {
        return topology.primary();
    }

    /** A fresh enough replica for a read (see ReplicaSelector#forRead(long, long)), or null. */
    public BackendNode forRead(long requiredLsn, long maxStalenessNanos) {
        return topology.selector().forRead(requiredLsn, maxStalenessNanos);
    }

    /** A replica that is up, whatever its lag, for a cycle that reads no data (see ReplicaSelector#anyReplica), or null. */
    public BackendNode anyReplica() {
        return topology.selector().anyReplica();
    }

    /** Why no replica could take a read with this staleness bound. */
    public ReadReason whyNoReplica(long maxStalenessNanos) {
        return topology.selector().whyNot(maxStalenessNanos);
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

    /** The current node at {@code host:port}, or null. */
    public BackendNode node(String address) {
        return topology.find(address);
    }

    /** The current servers: the primary first, then the replicas in configuration order. */
    public List<BackendNode> nodes() {
        return topology.nodes();
    }
}

// Picks the server for a read among the usable replicas (and the primary when primary_reads says so), by weight.
package io.pgbalancer.routing;

import io.pgbalancer.config.Balance;
import io.pgbalancer.config.MaxLag;
import io.pgbalancer.config.PrimaryReads;
import io.pgbalancer.causal.Lsn;
import io.pgbalancer.causal.ProxySettings;
import io.pgbalancer.monitor.BackendStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * All three strategies honour weights. least-outstanding compares work in flight per unit of weight and gives ties
 * to the server that has served least per unit of weight, so idle replicas share sequential traffic evenly; round-robin is smooth weighted round-robin (each
 * pick adds every weight to its server's credit and takes the total from the winner); random draws by weight.
 * Replicas at max_connections are passed over while another has room; when all are full the least loaded one is
 * chosen and the request queues in its pool.
 */
public final class ReplicaSelector {
    private final BackendNode primary;
    private final List<BackendNode> replicas;
    private final Balance balance;
    private final PrimaryReads primaryReads;
    private final MaxLag maxLag;
    private final int[] credit;

    public ReplicaSelector(BackendNode primary, List<BackendNode> replicas, Balance balance, PrimaryReads primaryReads,
                           MaxLag maxLag) {
        this.primary = primary;
        this.maxLag = maxLag;
        this.replicas = List.copyOf(replicas);
        this.balance = balance;
        this.primaryReads = primaryReads;
        this.credit = new int[replicas.size() + 1];
    }

    public ReplicaSelector(BackendNode primary, List<BackendNode> replicas, Balance balance, PrimaryReads primaryReads) {
        this(primary, replicas, balance, primaryReads, MaxLag.NONE);
    }

    public BackendNode primary() {
        return primary;
    }

    /** The server for a read with no position to see and no bound, or null (primary_reads: never, no replica up). */
    public BackendNode forRead() {
        BackendNode n = forRead(Lsn.NONE, ProxySettings.UNBOUNDED);
        return n == null && primaryReads == PrimaryReads.FALLBACK ? primary : n;
    }

    /**
     * A replica that is up, within routing.max_lag and {@code maxStalenessNanos}, and has replayed {@code requiredLsn}
     * (or the primary, with primary_reads: always); null when there is none: then {@link #whyNot} says why.
     */
    public BackendNode forRead(long requiredLsn, long maxStalenessNanos) {
        List<BackendNode> candidates = new ArrayList<>(replicas.size() + 1);
        for (BackendNode r : replicas) {
            if (!r.isBanned() && withinBounds(r.status(), maxStalenessNanos)
                    && Lsn.reached(r.status().lsn(), requiredLsn)) {
                candidates.add(r);
            }
        }
        if (primaryReads == PrimaryReads.ALWAYS && primary != null) {
            candidates.add(primary);
        }
        return choose(candidates);
    }

    /**
     * A replica that is up, for work that reads no data (a cycle that only changes settings): no position, lag or
     * staleness bound applies, and never the primary; null when every replica is banned or there is none.
     */
    public BackendNode anyReplica() {
        List<BackendNode> candidates = new ArrayList<>(replicas.size());
        for (BackendNode r : replicas) {
            if (!r.isBanned()) {
                candidates.add(r);
            }
        }
        return choose(candidates);
    }

    /** One of {@code candidates} by the balance strategy, preferring those with room; null when there is none. */
    private BackendNode choose(List<BackendNode> candidates) {
        if (candidates.isEmpty()) {
            return null;
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        List<BackendNode> withRoom = new ArrayList<>(candidates.size());
        for (BackendNode c : candidates) {
            if (!c.atCapacity()) {
                withRoom.add(c);
            }
        }
        if (withRoom.isEmpty()) {
            return leastOutstanding(candidates);
        }
        return switch (balance) {
            case LEAST_OUTSTANDING -> leastOutstanding(withRoom);
            case ROUND_ROBIN -> smoothRoundRobin(withRoom);
            case RANDOM -> weightedRandom(withRoom);
        };
    }

    /** Why {@link #forRead(long, long)} found no replica: none up, all too far behind, or none caught up yet. */
    public ReadReason whyNot(long maxStalenessNanos) {
        boolean up = false;
        boolean withinLag = false;
        for (BackendNode r : replicas) {
            if (!r.isBanned()) {
                up = true;
                if (withinBounds(r.status(), ProxySettings.UNBOUNDED)) {
                    withinLag = true;
                    if (withinBounds(r.status(), maxStalenessNanos)) {
                        return ReadReason.CONSISTENCY;
                    }
                }
            }
        }
        return !up ? ReadReason.UNAVAILABLE : withinLag ? ReadReason.STALENESS : ReadReason.LAG;
    }

    /** Within routing.max_lag and the read's own staleness bound, as of the monitor's last poll. */
    private boolean withinBounds(BackendStatus st, long maxStalenessNanos) {
        if (maxLag.isBounded() || maxStalenessNanos >= 0) {
            if (!st.reachable()) {
                return false; // not polled yet: its lag is unknown
            }
            if (maxLag.bytes() != null && st.lagBytes() > maxLag.bytes()) {
                return false;
            }
            if (maxLag.time() != null && st.lagNanos() > maxLag.time().toNanos()) {
                return false;
            }
            return maxStalenessNanos < 0 || st.lagNanos() <= maxStalenessNanos;
        }
        return true;
    }

    /**
     * Least work in flight (transactions holding a connection, and clients queued for one) per unit of weight;
     * among equals, the one that has served the fewest transactions per unit of weight, so shares converge on the
     * weights even for a few long-lived clients.
     */
    private static BackendNode leastOutstanding(List<BackendNode> nodes) {
        BackendNode best = null;
        for (BackendNode c : nodes) {
            if (best == null) {
                best = c;
                continue;
            }
            // compare per unit of weight without division
            long load = (long) c.outstanding() * best.weight() - (long) best.outstanding() * c.weight();
            if (load < 0 || (load == 0 && c.transactions() * best.weight() < best.transactions() * c.weight())) {
                best = c;
            }
        }
        return best;
    }

    private synchronized BackendNode smoothRoundRobin(List<BackendNode> nodes) {
        int total = 0;
        int bestIndex = -1;
        for (BackendNode c : nodes) {
            int i = indexOf(c);
            credit[i] += c.weight();
            total += c.weight();
            if (bestIndex < 0 || credit[i] > credit[bestIndex]) {
                bestIndex = i;
            }
        }
        credit[bestIndex] -= total;
        return bestIndex == replicas.size() ? primary : replicas.get(bestIndex);
    }

    private int indexOf(BackendNode c) {
        int i = replicas.indexOf(c);
        return i < 0 ? replicas.size() : i;
    }

    private static BackendNode weightedRandom(List<BackendNode> nodes) {
        int total = 0;
        for (BackendNode c : nodes) {
            total += c.weight();
        }
        int pick = ThreadLocalRandom.current().nextInt(total);
        for (BackendNode c : nodes) {
            pick -= c.weight();
            if (pick < 0) {
                return c;
            }
        }
        return nodes.get(nodes.size() - 1);
    }
}

// One immutable view of the servers: the primary, the replicas and the selector that balances reads over them.
package io.pgbalancer.routing;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Role;
import io.pgbalancer.config.Routing;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Built at startup, on every reload or discovery change, and whenever the monitor sees a server's role change. The
 * primary is the server configured primary (unless the monitor sees it in recovery: a write never goes to a standby)
 * or the role-auto server the monitor sees out of recovery. Two candidates at once (split brain, or a switchover
 * caught half-way) make no primary: writes wait rather than risk the wrong server. Replicas are those configured so
 * and the role-auto ones seen in recovery; a role-auto server not polled yet is in {@link #nodes()} only.
 *
 * @param primary   the server for writes, or null (writes wait for one up to routing.primary_wait)
 * @param replicas  the servers for reads
 * @param selector  balances reads over the replicas
 * @param all       every server, whatever its role now: the primary first, then in configuration order
 * @param conflict  why there is no primary although candidates exist, or null
 */
public record Topology(BackendNode primary, List<BackendNode> replicas, ReplicaSelector selector,
                       List<BackendNode> all, String conflict) {
    public Topology {
        replicas = List.copyOf(replicas);
        all = List.copyOf(all);
    }

    /**
     * The view of {@code backends}: a server already in {@code known} (same host:port and configured role) keeps its
     * node, so its pools, counters and monitor state carry over; its weight and max_connections are updated in place.
     */
    static Topology of(List<Backend> backends, Routing routing, Map<String, BackendNode> known) {
        List<BackendNode> nodes = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            BackendNode node = known.get(key(b));
            if (node == null) {
                node = new BackendNode(b);
                // a server that changed role (a label flip, a move between Services) keeps what the monitor saw of
                // it: a former replica is not trusted with writes until a poll finds it out of recovery
                for (BackendNode before : known.values()) {
                    if (before.backend().address().equals(b.address())) {
                        node.status(before.status());
                    }
                }
            } else {
                node.update(b);
            }
            nodes.add(node);
        }
        return classify(nodes, routing);
    }

    /** Sorts {@code nodes} by the role each plays now. */
    static Topology classify(List<BackendNode> nodes, Routing routing) {
        List<BackendNode> candidates = new ArrayList<>(1);
        List<BackendNode> replicas = new ArrayList<>();
        for (BackendNode n : nodes) {
            if (n.isRetired()) {
                continue;
            }
            Role now = n.currentRole();
            if (now == Role.PRIMARY) {
                // last seen in recovery, even if it does not answer now: a configured primary the monitor found in
                // recovery takes no writes until a poll finds it out of recovery
                boolean standby = n.status().inRecovery();
                if (!standby) {
                    candidates.add(n);
                }
            } else if (now == Role.REPLICA) {
                replicas.add(n);
            }
        }
        BackendNode primary = candidates.size() == 1 ? candidates.get(0) : null;
        String conflict = candidates.size() > 1 ? "servers " + String.join(" and ",
                candidates.stream().map(c -> c.backend().address()).toList()) + " both accept writes" : null;
        List<BackendNode> all = new ArrayList<>(nodes.size());
        if (primary != null) {
            all.add(primary);
        }
        for (BackendNode n : nodes) {
            if (n != primary) {
                all.add(n);
            }
        }
        return new Topology(primary, replicas, new ReplicaSelector(primary, replicas, routing.balance(),
                routing.primaryReads(), routing.maxLag()), all, conflict);
    }

    /** What identifies one node across reloads: the address and the configured role (a change is a new node). */
    static String key(Backend b) {
        return b.role().name() + " " + b.address();
    }

    /** Every server: the primary first, then the others in configuration order. */
    public List<BackendNode> nodes() {
        return all;
    }

    /** The node at {@code host:port}, or null. */
    public BackendNode find(String address) {
        for (BackendNode n : all) {
            if (n.backend().address().equals(address)) {
                return n;
            }
        }
        return null;
    }

    /** The role each server plays in this view, to tell whether a new poll changed anything. */
    String signature() {
        StringBuilder s = new StringBuilder(primary == null ? "-" : primary.backend().address());
        for (BackendNode r : replicas) {
            s.append(',').append(r.backend().address());
        }
        return s.toString();
    }
}

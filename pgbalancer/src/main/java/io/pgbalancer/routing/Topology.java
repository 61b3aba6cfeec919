// One immutable view of the servers: the primary, the replicas and the selector that balances reads over them.
package io.pgbalancer.routing;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Role;
import io.pgbalancer.config.Routing;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Built at startup and on every reload; a reload swaps the whole view at once, reusing unchanged servers' nodes. */
public record Topology(BackendNode primary, List<BackendNode> replicas, ReplicaSelector selector) {
    public Topology {
        replicas = List.copyOf(replicas);
    }

    /**
     * The view of {@code backends}: a server already in {@code known} (same host:port and role) keeps its node, so
     * its pools, counters and monitor state carry over; its weight and max_connections are updated in place.
     */
    static Topology of(List<Backend> backends, Routing routing, Map<String, BackendNode> known) {
        BackendNode primary = null;
        List<BackendNode> replicas = new ArrayList<>();
        for (Backend b : backends) {
            BackendNode node = known.get(key(b));
            if (node == null) {
                node = new BackendNode(b);
            } else {
                node.update(b);
            }
            if (b.role() == Role.PRIMARY) {
                primary = node;
            } else {
                replicas.add(node);
            }
        }
        return new Topology(primary, replicas, new ReplicaSelector(primary, replicas, routing.balance(),
                routing.primaryReads(), routing.maxLag()));
    }

    /** What identifies one node across reloads: the address and the role (a role change is a new node). */
    static String key(Backend b) {
        return b.role().name() + " " + b.address();
    }

    /** The primary first, then the replicas in configuration order. */
    public List<BackendNode> nodes() {
        List<BackendNode> all = new ArrayList<>(replicas.size() + 1);
        if (primary != null) {
            all.add(primary);
        }
        all.addAll(replicas);
        return all;
    }

    /** The node at {@code host:port}, or null. */
    public BackendNode find(String address) {
        for (BackendNode n : nodes()) {
            if (n.backend().address().equals(address)) {
                return n;
            }
        }
        return null;
    }
}

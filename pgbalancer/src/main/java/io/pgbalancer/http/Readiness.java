// Readiness: listening, not draining, and the primary or a replica answers; the body says which servers are up.
package io.pgbalancer.http;

import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import java.util.ArrayList;
import java.util.List;

/** Written by the server (listening, draining), read by probe requests on any thread. */
public final class Readiness {
    private final Router router;
    private volatile boolean listening;
    private volatile boolean draining;
    /** Which discovery source failed its last refresh and why, or null. */
    private volatile java.util.function.Supplier<String> discovery = () -> null;

    public Readiness(Router router) {
        this.router = router;
    }

    /** Where to ask whether endpoint discovery is stale. */
    public void discovery(java.util.function.Supplier<String> staleness) {
        discovery = staleness;
    }

    public void listening() {
        listening = true;
    }

    /** Shutdown began: new work should go elsewhere while running transactions finish. */
    public void draining() {
        draining = true;
    }

    public Probe check() {
        BackendNode primary = router.primary();
        int replicas = 0;
        int replicasUp = 0;
        List<String> servers = new ArrayList<>();
        for (BackendNode n : router.nodes()) {
            if (!n.isPrimary()) {
                replicas++;
                replicasUp += n.status().reachable() && !n.isBanned() ? 1 : 0;
            }
            servers.add(Json.object("backend", n.backend().address(), "role", n.roleNow(),
                    "up", n.status().reachable(), "banned", n.isBanned(),
                    "error", n.status().reachable() ? null : n.status().error()));
        }
        String reason;
        boolean ready = false;
        String replicasLine = replicasUp + " of " + replicas + " replicas take reads";
        if (!listening) {
            reason = "not listening yet";
        } else if (draining) {
            reason = "draining: shutting down, running transactions are finishing";

        } else if (primary != null && primary.status().reachable()) {
            ready = true;
            reason = "the primary answers; " + replicasLine;
        } else if (replicasUp > 0) {
            // failover or a primary restart: reads go on, writes wait up to routing.primary_wait
            ready = true;
            reason = "reads only: " + (primary == null ? router.whyNoPrimary() : "the primary "
                    + primary.backend().address() + " does not answer the monitor: " + primary.status().error())
                    + "; writes wait for a primary; " + replicasLine;
        } else if (primary == null) {
            reason = "no primary (" + router.whyNoPrimary() + ") and no replica takes reads";
        } else {
            reason = "the primary " + primary.backend().address() + " does not answer the monitor: "
                    + primary.status().error();
        }
        String stale = discovery.get();
        if (stale != null) {
            // said, but not a reason to leave the Service: every pod would see the same API outage, and the last known
            // servers keep serving
            reason += "; endpoint discovery is stale, serving the last known servers: " + stale;
        }
        return new Probe(ready, Json.object("ready", ready, "reason", reason, "discovery_stale", stale != null,
                "servers", Json.array(servers)));
    }
}

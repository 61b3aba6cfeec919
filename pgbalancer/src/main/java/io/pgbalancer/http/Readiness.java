// Readiness: listening, not draining, and the primary answers the monitor; the body says which servers are up.
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

    public Readiness(Router router) {
        this.router = router;
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
            servers.add(Json.object("backend", n.backend().address(), "role", n.isPrimary() ? "primary" : "replica",
                    "up", n.status().reachable(), "banned", n.isBanned(),
                    "error", n.status().reachable() ? null : n.status().error()));
        }
        String reason;
        boolean ready = false;
        if (!listening) {
            reason = "not listening yet";
        } else if (draining) {
            reason = "draining: shutting down, running transactions are finishing";
        } else if (!primary.status().reachable()) {
            reason = "the primary " + primary.backend().address() + " does not answer the monitor: "
                    + primary.status().error();
        } else {
            ready = true;
            reason = "the primary answers; " + replicasUp + " of " + replicas + " replicas take reads";
        }
        return new Probe(ready, Json.object("ready", ready, "reason", reason, "servers", Json.array(servers)));
    }
}

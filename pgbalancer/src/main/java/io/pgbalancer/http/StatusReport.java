// The status page's data (GET /status.json): each server's role, health, lag and pool use, clients, reads by reason.
package io.pgbalancer.http;

import io.pgbalancer.causal.Lsn;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.ReadReason;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionTracker;
import java.util.ArrayList;
import java.util.List;

/** Counters are totals since start; the page turns them into rates between two polls. */
public final class StatusReport {
    private final Router router;
    private final SessionTracker sessions;
    private final Readiness readiness;

    public StatusReport(Router router, SessionTracker sessions, Readiness readiness) {
        this.router = router;
        this.sessions = sessions;
        this.readiness = readiness;
    }

    public String json() {
        List<String> servers = new ArrayList<>();
        for (BackendNode n : router.nodes()) {
            servers.add(Json.object(
                    "backend", n.backend().address(),
                    "role", n.roleNow(),
                    "up", n.status().reachable(),
                    "banned", n.isBanned(),
                    "in_recovery", n.status().inRecovery(),
                    "wal", Lsn.format(n.status().lsn()),
                    "lag_bytes", n.status().lagBytes(),
                    "lag_seconds", n.status().lagNanos() / 1e9,
                    "weight", n.weight(),
                    "in_use", n.inUse(),
                    "outstanding", n.outstanding(),
                    "transactions", n.transactions(),
                    "error", n.status().reachable() ? null : n.status().error()));
        }
        List<String> reads = new ArrayList<>();
        for (ReadReason r : ReadReason.values()) {
            reads.add(Json.object("target", r.target(), "reason", r.label(), "count", router.reads().total(r)));
        }
        Probe ready = readiness.check();
        return Json.object("time_ms", System.currentTimeMillis(), "clients", sessions.count(), "ready", ready.ok(),
                "servers", Json.array(servers), "reads", Json.array(reads));
    }
}

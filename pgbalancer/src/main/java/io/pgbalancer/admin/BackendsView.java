// SHOW BACKENDS: one row per configured server, in configuration order: health, WAL position, lag and load.
package io.pgbalancer.admin;

import io.pgbalancer.causal.Lsn;
import io.pgbalancer.config.Backend;
import io.pgbalancer.monitor.BackendStatus;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

final class BackendsView {
    static final List<String> COLUMNS = List.of("backend", "role", "up", "banned", "wal_position", "lag_bytes",
            "lag_seconds", "weight", "outstanding", "transactions", "share_percent");

    private BackendsView() {
    }

    static AdminReply show(SessionServices services) {
        Router router = services.router();
        List<BackendNode> nodes = router.nodes();
        long all = nodes.stream().mapToLong(BackendNode::transactions).sum();
        List<List<String>> rows = new ArrayList<>();
        for (BackendNode n : nodes) {
            BackendStatus s = n.status();
            long transactions = n.transactions();
            rows.add(List.of(n.backend().address(), n.backend().role().name().toLowerCase(Locale.ROOT),
                    s.reachable() ? "yes" : "no", banned(n), s.lsn() == Lsn.NONE ? "" : Lsn.format(s.lsn()),
                    String.valueOf(s.lagBytes()), String.format(Locale.ROOT, "%.3f", s.lagNanos() / 1e9),
                    String.valueOf(n.weight()), String.valueOf(n.outstanding()), String.valueOf(transactions),
                    String.format(Locale.ROOT, "%.1f", all == 0 ? 0.0 : 100.0 * transactions / all)));
        }
        return new AdminReply.Rows(COLUMNS, rows);
    }

    /** "admin" for a BAN from the console, "temporary" for the router's own short ban, "no" otherwise. */
    private static String banned(BackendNode n) {
        if (n.isBannedByAdmin()) {
            return "admin";
        }
        return n.isBanned() ? "temporary" : "no";
    }
}

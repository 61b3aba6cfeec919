// SHOW POOLS: one row per backend pool (server, user, database) with its connection counts.
package io.pgbalancer.admin;

import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolKey;
import io.pgbalancer.session.SessionServices;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

final class PoolsView {
    static final List<String> COLUMNS = List.of("database", "user", "backend", "role", "pool_mode", "connections",
            "idle", "active", "waiting");

    private PoolsView() {
    }

    static AdminReply show(SessionServices services) {
        String mode = services.config().pool().mode().yamlName();
        List<List<String>> rows = new ArrayList<>();
        List<BackendPool> pools = new ArrayList<>(services.pools().all());
        pools.sort(Comparator.comparing((BackendPool p) -> p.key().database())
                .thenComparing(p -> p.key().user())
                .thenComparing(p -> p.key().backend().address()));
        for (BackendPool pool : pools) {
            PoolKey key = pool.key();
            int total = pool.total();
            int idle = pool.idleCount();
            rows.add(List.of(key.database(), key.user(), key.backend().address(),
                    key.backend().role().name().toLowerCase(java.util.Locale.ROOT), mode, String.valueOf(total),
                    String.valueOf(idle), String.valueOf(Math.max(0, total - idle)),
                    String.valueOf(pool.waiting())));
        }
        return new AdminReply.Rows(COLUMNS, rows);
    }
}

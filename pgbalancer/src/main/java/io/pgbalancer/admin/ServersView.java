// SHOW SERVERS: one row per backend connection: server, role, user, database, state, process id, age, holder.
package io.pgbalancer.admin;

import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendListener;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolKey;
import io.pgbalancer.session.SessionServices;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

final class ServersView {
    static final List<String> COLUMNS = List.of("backend", "role", "database", "user", "state", "pid",
            "age_seconds", "client");

    private ServersView() {
    }

    /** state: idle (in the pool), active (a client holds it), draining (its server was removed by a reload). */
    static AdminReply show(SessionServices services) {
        List<BackendPool> pools = new ArrayList<>(services.pools().all());
        pools.sort(Comparator.comparing((BackendPool p) -> p.key().backend().address())
                .thenComparing(p -> p.key().database()).thenComparing(p -> p.key().user()));
        List<List<String>> rows = new ArrayList<>();
        for (BackendPool pool : pools) {
            PoolKey key = pool.key();
            for (Map.Entry<BackendConnection, Boolean> e : pool.connections()) {
                BackendConnection c = e.getKey();
                BackendListener owner = c.owner();
                String state = e.getValue() ? "idle" : key.node().isRetired() ? "draining" : "active";
                rows.add(List.of(key.backend().address(), key.backend().role().name().toLowerCase(Locale.ROOT),
                        key.database(), key.user(), state, String.valueOf(c.processId()),
                        String.valueOf(TimeUnit.NANOSECONDS.toSeconds(c.ageNanos())),
                        owner == null ? "" : owner.describeOwner()));
            }
        }
        return new AdminReply.Rows(COLUMNS, rows);
    }
}

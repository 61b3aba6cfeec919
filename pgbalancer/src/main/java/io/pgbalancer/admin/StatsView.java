// SHOW STATS: counters as (stat, value) rows: reads by target and reason, read retries, clients.
package io.pgbalancer.admin;

import io.pgbalancer.routing.ReadReason;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionServices;
import java.util.ArrayList;
import java.util.List;

final class StatsView {
    static final List<String> COLUMNS = List.of("stat", "value");

    private StatsView() {
    }

    static AdminReply show(SessionServices services) {
        Router router = services.router();
        List<List<String>> rows = new ArrayList<>();
        for (ReadReason reason : ReadReason.values()) {
            rows.add(List.of("reads_" + reason.target() + "_" + reason.label(),
                    String.valueOf(router.reads().total(reason))));
        }
        rows.add(List.of("read_retries_on_primary", String.valueOf(router.retriesOnPrimary())));
        rows.add(List.of("read_retries_elsewhere", String.valueOf(router.retriesElsewhere())));
        rows.add(List.of("clients", String.valueOf(services.sessions().count())));
        rows.add(List.of("clients_active", String.valueOf(services.sessions().busyCount())));
        return new AdminReply.Rows(COLUMNS, rows);
    }
}

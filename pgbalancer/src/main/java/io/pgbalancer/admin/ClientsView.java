// SHOW CLIENTS: one row per connected (pooled) client session: who, from where, and whether it holds a backend.
package io.pgbalancer.admin;

import io.pgbalancer.session.ClientSnapshot;
import io.pgbalancer.session.SessionServices;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

final class ClientsView {
    static final List<String> COLUMNS = List.of("user", "database", "address", "state", "pinned");

    private ClientsView() {
    }

    static AdminReply show(SessionServices services) {
        List<ClientSnapshot> clients = new ArrayList<>(services.sessions().snapshot());
        clients.sort(Comparator.comparing(ClientSnapshot::user).thenComparing(ClientSnapshot::database)
                .thenComparing(ClientSnapshot::address));
        List<List<String>> rows = new ArrayList<>();
        for (ClientSnapshot c : clients) {
            rows.add(List.of(c.user(), c.database(), c.address(), c.active() ? "active" : "idle",
                    c.pinned() ? "yes" : "no"));
        }
        return new AdminReply.Rows(COLUMNS, rows);
    }
}

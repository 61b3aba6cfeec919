// BAN / UNBAN host:port: keeps reads away from a server until UNBAN (the admin flag on its BackendNode).
package io.pgbalancer.admin;

import io.pgbalancer.config.Backend;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.session.SessionServices;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

final class BanCommand {
    private BanCommand() {
    }

    static AdminReply run(SessionServices services, String verb, List<String> args) {
        if (args.size() != 1) {
            return new AdminReply.Failed("42601", verb + " takes one backend as host:port, e.g. " + verb + " "
                    + (services.router().nodes().isEmpty() ? "10.0.0.5:5432"
                    : services.router().nodes().get(0).backend().address()));
        }
        Optional<BackendNode> node = find(services, args.get(0));
        if (node.isEmpty()) {
            return new AdminReply.Failed("42704", "unknown backend \"" + args.get(0) + "\" (known: "
                    + String.join(", ", services.router().nodes().stream().map(n -> n.backend().address()).toList())
                    + ")");
        }
        if (verb.equals("BAN")) {
            node.get().banByAdmin();
        } else {
            node.get().unbanByAdmin();
        }
        return new AdminReply.Done(verb);
    }

    /** The server whose host:port is {@code address} (host compared ignoring case; IPv6 in brackets or not). */
    static Optional<BackendNode> find(SessionServices services, String address) {
        String wanted = address.toLowerCase(Locale.ROOT);
        for (BackendNode n : services.router().nodes()) {
            Backend b = n.backend();
            String plain = b.host().toLowerCase(Locale.ROOT) + ":" + b.port();
            if (wanted.equals(b.address().toLowerCase(Locale.ROOT)) || wanted.equals(plain)) {
                return Optional.of(n);
            }
        }
        return Optional.empty();
    }
}

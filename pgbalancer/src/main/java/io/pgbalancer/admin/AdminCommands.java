// Runs one admin console command (SHOW ..., BAN, UNBAN) against the running proxy and returns its reply.
package io.pgbalancer.admin;

import io.netty.channel.EventLoop;
import io.pgbalancer.session.PauseGate;
import io.pgbalancer.cli.VersionProvider;
import io.pgbalancer.session.SessionServices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import io.pgbalancer.reload.ConfigReloader;

public final class AdminCommands {
    // PAUSE/RESUME use the sessions' PauseGate; SHUTDOWN runs the server's graceful shutdown on a thread of its own
    /** The commands and what they do, as SHOW HELP lists them. */
    static final List<List<String>> HELP = List.of(
            List.of("SHOW POOLS", "backend connection pools: database, user, backend, role, counts"),
            List.of("SHOW SERVERS", "backend connections: server, role, database, user, state, pid, age, client"),
            List.of("SHOW CLIENTS", "connected client sessions: user, database, address, state, pinned"),
            List.of("SHOW BACKENDS", "servers: health, ban, WAL position, lag, weight, load, share of transactions"),
            List.of("SHOW STATS", "reads by target and reason, read retries, clients"),
            List.of("SHOW CONFIG", "the effective configuration (passwords hidden)"),
            List.of("SHOW VERSION", "the pgbalancer version"),
            List.of("SHOW HELP", "this list"),
            List.of("BAN host:port", "keep reads away from a server until UNBAN"),
            List.of("UNBAN host:port", "lift a BAN"),
            List.of("RELOAD", "reload the configuration file; answers with what changed or every problem found"),
            List.of("PAUSE [db]", "hold new transactions (of db, or all); returns once running ones finished"),
            List.of("RESUME [db]", "let held and new transactions run again"),
            List.of("SHUTDOWN", "graceful shutdown: stop accepting, let transactions finish, close"),
            List.of("SET name = value, RESET name", "accepted and ignored: drivers send them after login"));
    private final SessionServices services;
    private final EventLoop loop;
    private final ProxyControl control;

    public AdminCommands(SessionServices services, EventLoop loop, ProxyControl control) {
        this.services = services;
        this.loop = loop;
        this.control = control;
    }

    /** One command (no ';'), case-insensitive. */
    public AdminReply run(String command) {
        List<String> words = new ArrayList<>(Arrays.asList(command.strip().split("\\s+")));
        String verb = words.remove(0).toUpperCase(Locale.ROOT);
        if (verb.equals("SHOW") && words.size() == 1) {
            AdminReply reply = show(words.get(0).toUpperCase(Locale.ROOT));
            if (reply != null) {
                return reply;
            }
        }
        if (verb.equals("BAN") || verb.equals("UNBAN")) {
            return BanCommand.run(services, verb, words);
        }
        if ((verb.equals("PAUSE") || verb.equals("RESUME")) && words.size() <= 1) {
            String database = words.isEmpty() ? PauseGate.ALL : unquote(words.get(0));
            return verb.equals("PAUSE") ? PauseCommand.pause(services, loop, database)
                    : PauseCommand.resume(services, database);
        }
        if (verb.equals("SHUTDOWN") && words.isEmpty()) {
            Thread t = new Thread(control::shutdown, "pgbalancer-admin-shutdown");
            t.setDaemon(false);
            t.start();
            return new AdminReply.Done("SHUTDOWN");
        }
        if (verb.equals("RELOAD") && words.isEmpty()) {
            return reload();
        }
        if ((verb.equals("SET") || verb.equals("RESET")) && !words.isEmpty()) {
            // pgjdbc 42.7.5+ sends SET application_name after login, psql and others may SET client settings:
            // the console has no session settings to change, so it says done (as PgBouncer's console does)
            return new AdminReply.Done(verb);
        }
        return new AdminReply.Failed("42601", "unknown admin command \"" + command.strip() + "\"; try SHOW HELP");
    }

    /**
     * Loads on a thread of its own (it reads the file and may read the primary), then answers: a NOTICE-free
     * "RELOAD" with what changed as a row, or error F0000 (config_file_error) listing every problem.
     */
    private AdminReply reload() {
        io.netty.util.concurrent.Promise<AdminReply> done = loop.newPromise();
        Thread t = new Thread(() -> {
            ConfigReloader.Outcome outcome;
            try {
                outcome = control.reload("admin console RELOAD");
            } catch (RuntimeException e) {
                outcome = new ConfigReloader.Outcome(false, e.toString());
            }
            done.trySuccess(outcome.ok()
                    ? new AdminReply.Rows(List.of("reload"), List.of(List.of(outcome.message())))
                    : new AdminReply.Failed("F0000", "configuration not reloaded, the running one stays: "
                            + outcome.message()));
        }, "pgbalancer-admin-reload");
        t.setDaemon(true);
        t.start();
        return new AdminReply.Later(done);
    }

    private static String unquote(String name) {
        return name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"") ? name.substring(1, name.length() - 1)
                : name;
    }

    private AdminReply show(String what) {
        return switch (what) {
            case "POOLS" -> PoolsView.show(services);
            case "SERVERS" -> ServersView.show(services);
            case "CLIENTS" -> ClientsView.show(services);
            case "BACKENDS" -> BackendsView.show(services);
            case "STATS" -> StatsView.show(services);
            case "CONFIG" -> ConfigView.show(services.config());
            case "VERSION" -> new AdminReply.Rows(List.of("version"),
                    List.of(List.of("pgbalancer " + VersionProvider.version())));
            case "HELP" -> new AdminReply.Rows(List.of("command", "description"), HELP);
            default -> null;
        };
    }
}

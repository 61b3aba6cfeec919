// What a reloaded configuration changes: what applies live, what needs a restart, and the config that takes effect.
package io.pgbalancer.reload;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.Pool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code listen}, {@code http}, {@code pool.mode} and {@code discovery} are bound when the process starts: a reload that changes them
 * reports each one and keeps the running value, and applies everything else.
 */
public record ConfigChanges(List<String> applied, List<String> needRestart, PgBalancerConfig effective) {
    public ConfigChanges {
        applied = List.copyOf(applied);
        needRestart = List.copyOf(needRestart);
    }

    public boolean isEmpty() {
        return applied.isEmpty() && needRestart.isEmpty();
    }

    public static ConfigChanges between(PgBalancerConfig running, PgBalancerConfig next) {
        List<String> restart = new ArrayList<>();
        if (!running.listen().equals(next.listen())) {
            restart.add("listen (running " + listen(running) + ", file says " + listen(next) + ")");
        }
        if (!running.http().equals(next.http())) {
            restart.add("http (running " + http(running) + ", file says " + http(next) + ")");
        }
        if (running.pool().mode() != next.pool().mode()) {
            restart.add("pool.mode (running " + running.pool().mode().yamlName() + ", file says "
                    + next.pool().mode().yamlName() + ")");
        }
        if (!running.discovery().equals(next.discovery())) {
            restart.add("discovery (its sources are started once; the running ones stay)");
        }
        Pool pool = next.pool();
        PgBalancerConfig effective = new PgBalancerConfig(running.listen(),
                new Pool(running.pool().mode(), pool.size(), pool.checkoutTimeout(), pool.idleTimeout(),
                        pool.maxLifetime(), pool.connectTimeout(), pool.maxPreparedStatements()),
                next.auth(), next.backends(), next.limits(), next.shutdown(), next.routing(), running.http(),
                next.monitor(), next.admin(), running.discovery(), next.tls(), next.backendTls(), next.warnings());
        List<String> applied = new ArrayList<>(backends(running.backends(), next.backends()));
        section(applied, "pool", running.pool(), effective.pool());
        section(applied, "auth.method", running.auth().method(), next.auth().method());
        users(applied, running, next);
        section(applied, "routing", running.routing(), next.routing());
        section(applied, "limits", running.limits(), next.limits());
        section(applied, "monitor", running.monitor(), next.monitor());
        section(applied, "admin", running.admin(), next.admin());
        section(applied, "shutdown", running.shutdown(), next.shutdown());
        return new ConfigChanges(applied, restart, effective);
    }

    private static String listen(PgBalancerConfig c) {
        return address(c.listen().host(), c.listen().port()) + ", io_threads " + c.listen().ioThreads()
                + ", transport " + c.listen().transport().yamlName();
    }

    private static String http(PgBalancerConfig c) {
        return c.http().enabled() ? address(c.http().host(), c.http().port()) : "off";
    }

    private static String address(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static void section(List<String> out, String name, Object before, Object after) {
        if (!before.equals(after)) {
            out.add(name);
        }
    }

    /** One entry per user added, removed or given a new password (never the password itself). */
    private static void users(List<String> out, PgBalancerConfig running, PgBalancerConfig next) {
        Map<String, io.pgbalancer.config.User> before = new LinkedHashMap<>();
        running.auth().users().forEach(u -> before.put(u.name(), u));
        Map<String, io.pgbalancer.config.User> after = new LinkedHashMap<>();
        next.auth().users().forEach(u -> after.put(u.name(), u));
        for (var e : after.entrySet()) {
            io.pgbalancer.config.User was = before.get(e.getKey());
            if (was == null) {
                out.add("user " + e.getKey() + " added");
                continue;
            }
            if (!Objects.equals(was.password(), e.getValue().password())) {
                out.add("user " + e.getKey() + ": new password");
            }
            if (!Objects.equals(was.maxConnections(), e.getValue().maxConnections())) {
                out.add("user " + e.getKey() + ": max_connections " + limitText(was.maxConnections()) + " -> "
                        + limitText(e.getValue().maxConnections()));
            }
        }
        for (String name : before.keySet()) {
            if (!after.containsKey(name)) {
                out.add("user " + name + " removed");
            }
        }
    }

    /** Servers added, removed (they drain), or with a new role, weight or max_connections. */
    private static List<String> backends(List<Backend> before, List<Backend> after) {
        Map<String, Backend> old = new LinkedHashMap<>();
        before.forEach(b -> old.put(b.address(), b));
        Map<String, Backend> now = new LinkedHashMap<>();
        after.forEach(b -> now.put(b.address(), b));
        List<String> out = new ArrayList<>();
        for (Backend b : after) {
            Backend was = old.get(b.address());
            if (was == null) {
                out.add("backend " + b.address() + " added (" + role(b) + ")");
            } else if (was.role() != b.role()) {
                out.add("backend " + b.address() + ": role " + role(was) + " -> " + role(b));
            } else {
                if (was.weight() != b.weight()) {
                    out.add("backend " + b.address() + ": weight " + was.weight() + " -> " + b.weight());
                }
                if (!Objects.equals(was.maxConnections(), b.maxConnections())) {
                    out.add("backend " + b.address() + ": max_connections " + limit(was) + " -> " + limit(b));
                }
            }
        }
        for (Backend b : before) {
            if (!now.containsKey(b.address())) {
                out.add("backend " + b.address() + " removed (" + role(b) + "; drains)");
            }
        }
        return out;
    }

    private static String role(Backend b) {
        return b.role().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String limitText(Integer max) {
        return max == null ? "unlimited" : max.toString();
    }

    private static String limit(Backend b) {
        return b.maxConnections() == null ? "unlimited" : b.maxConnections().toString();
    }
}

// purpose: test helper for FaultMatrixIT: what must hold after every fault (no backend idle in transaction, no server
// connection pgbalancer lost track of, pool counters at baseline, every committed row intact) and the results table.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** Reads pgbalancer's admin console and every server's pg_stat_activity directly (superuser, bypassing pgbalancer). */
final class FaultChecks implements AutoCloseable {
    /** One line of the fault matrix. */
    record Result(String fault, String injected, String clientsSaw, long wrong, String recovery, String checks,
                  String measured, String result) {
    }

    private final LocalCluster cluster;
    private final Connection console;
    final List<Result> results = new ArrayList<>();

    FaultChecks(LocalCluster cluster, TestProxy proxy) throws SQLException {
        this.cluster = cluster;
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("preferQueryMode", "simple");
        this.console = DriverManager.getConnection(proxy.jdbcUrl("pgbalancer"), p);
    }

    /** Every row of an admin console command as column name to value. */
    List<Map<String, String>> admin(String command) throws SQLException {
        try (Statement st = console.createStatement()) {
            return AdminConsoleIT.rows(st, command);
        }
    }

    /** The SHOW BACKENDS row of the server at {@code port}, or null. */
    Map<String, String> backend(int port) throws SQLException {
        return admin("SHOW BACKENDS").stream().filter(r -> r.get("backend").equals("127.0.0.1:" + port))
                .findFirst().orElse(null);
    }

    /**
     * Clients of the pool for the server at {@code port} that wait for a connection, plus its connections (open or
     * being opened): 0 when no read has been sent there.
     */
    int poolUse(int port) throws SQLException {
        return admin("SHOW POOLS").stream().filter(r -> r.get("backend").equals("127.0.0.1:" + port))
                .mapToInt(r -> Integer.parseInt(r.get("connections")) + Integer.parseInt(r.get("waiting"))).sum();
    }

    Connection direct(int port) throws SQLException {
        return DriverManager.getConnection(cluster.jdbcUrl(port, "app"), "postgres", "");
    }

    List<Integer> serverPorts() {
        List<Integer> ports = new ArrayList<>();
        ports.add(cluster.primaryPort());
        ports.addAll(cluster.replicaPorts());
        return ports;
    }

    /** Sessions idle in a transaction (or in a failed one) on every server, as "port pid state query"; empty = none. */
    List<String> idleInTransaction() throws SQLException {
        return idleInTransaction("%");
    }

    /** Those of {@link #idleInTransaction()} whose last query is LIKE {@code queryLike}. */
    List<String> idleInTransaction(String queryLike) throws SQLException {
        List<String> found = new ArrayList<>();
        for (int port : serverPorts()) {
            try (Connection c = direct(port); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT pid, usename, state, query FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"
                            + " AND pid <> pg_backend_pid() AND query LIKE '" + queryLike + "'")) {
                while (rs.next()) {
                    found.add(port + " pid " + rs.getInt(1) + " " + rs.getString(2) + " " + rs.getString(3) + ": "
                            + rs.getString(4));
                }
            }
        }
        return found;
    }

    /**
     * Connections of user app that a server has and pgbalancer does not list in SHOW SERVERS, or the other way
     * round (the monitor's own excluded), as "port: server-only [...] pgbalancer-only [...]"; empty = they agree.
     */
    List<String> untracked() throws SQLException {
        Map<Integer, Set<Integer>> pooled = new HashMap<>();
        for (Map<String, String> row : admin("SHOW SERVERS")) {
            int port = Integer.parseInt(row.get("backend").substring(row.get("backend").lastIndexOf(':') + 1));
            pooled.computeIfAbsent(port, p -> new TreeSet<>()).add(Integer.parseInt(row.get("pid")));
        }
        List<String> differences = new ArrayList<>();
        for (int port : serverPorts()) {
            Set<Integer> onServer = new TreeSet<>();
            try (Connection c = direct(port); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT pid FROM pg_stat_activity WHERE usename = 'app' AND backend_type = 'client backend'"
                            + " AND application_name <> 'pgbalancer-monitor'")) {
                while (rs.next()) {
                    onServer.add(rs.getInt(1));
                }
            }
            Set<Integer> listed = pooled.getOrDefault(port, Set.of());
            if (!onServer.equals(listed)) {
                Set<Integer> serverOnly = new TreeSet<>(onServer);
                serverOnly.removeAll(listed);
                Set<Integer> listedOnly = new TreeSet<>(listed);
                listedOnly.removeAll(onServer);
                differences.add(port + ": server-only " + serverOnly + " pgbalancer-only " + listedOnly);
            }
        }
        return differences;
    }

    /**
     * What differs from the baseline of the pools: no connection held by a client (SHOW POOLS active, SHOW SERVERS
     * active), nobody waiting, and exactly {@code clients} clients of database app, all idle. Empty = at baseline.
     */
    List<String> poolsOffBaseline(int clients) throws SQLException {
        List<String> off = new ArrayList<>();
        for (Map<String, String> pool : admin("SHOW POOLS")) {
            if (!"0".equals(pool.get("active")) || !"0".equals(pool.get("waiting"))) {
                off.add("pool " + pool);
            }
        }
        List<Map<String, String>> appClients = admin("SHOW CLIENTS").stream()
                .filter(c -> c.get("database").equals("app")).toList();
        if (appClients.size() != clients) {
            off.add(appClients.size() + " clients of database app, the load holds " + clients);
        }
        appClients.stream().filter(c -> !c.get("state").equals("idle")).forEach(c -> off.add("client " + c));
        return off;
    }

    /**
     * Polls until no backend is idle in transaction, the servers' connections agree with pgbalancer's and the pools
     * are at their baseline with {@code clients} load clients; returns when that first held (System.nanoTime()).
     */
    long awaitBaseline(Duration timeout, int clients) throws Exception {
        List<String> last = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            Poll.until(timeout, "no backend idle in transaction, servers and pgbalancer agreeing on the backend"
                    + " connections, pools at baseline", () -> {
                        List<String> now = new ArrayList<>();
                        idleInTransaction().forEach(s -> now.add("idle in transaction: " + s));
                        untracked().forEach(s -> now.add("connections differ: " + s));
                        poolsOffBaseline(clients).forEach(s -> now.add("off baseline: " + s));
                        if (!now.equals(last)) {
                            System.out.printf("fault matrix: +%d ms %s%n", FaultCase.millisSince(t0),
                                    now.isEmpty() ? "at baseline" : now);
                        }
                        last.clear();
                        last.addAll(now);
                        return now.isEmpty();
                    });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen: " + last, e);
        }
        return System.nanoTime();
    }

    /**
     * Every row a writer saw committed is on the primary with the checksum of its payload, and no row there has a
     * payload that does not match its checksum. Returns the number of committed rows checked.
     */
    int assertCommittedRowsIntact(Map<String, List<Integer>> committed) throws SQLException {
        Map<String, Map<Integer, String>> onPrimary = new HashMap<>();
        List<String> corrupt = new ArrayList<>();
        try (Connection c = direct(cluster.primaryPort()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT tag, n, md5, md5(payload) = md5 FROM " + MixedLoad.TABLE)) {
            while (rs.next()) {
                onPrimary.computeIfAbsent(rs.getString(1), t -> new HashMap<>()).put(rs.getInt(2), rs.getString(3));
                if (!rs.getBoolean(4)) {
                    corrupt.add(rs.getString(1) + "/" + rs.getInt(2));
                }
            }
        }
        assertEquals(List.of(), corrupt, "rows whose payload does not match their checksum");
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, List<Integer>> e : committed.entrySet()) {
            Map<Integer, String> rows = onPrimary.getOrDefault(e.getKey(), Map.of());
            for (int n : e.getValue()) {
                checked++;
                String md5 = rows.get(n);
                if (md5 == null || !md5.equals(MixedLoad.md5(MixedLoad.payload(e.getKey(), n)))) {
                    missing.add(e.getKey() + "/" + n + (md5 == null ? " missing" : " wrong checksum " + md5));
                }
            }
        }
        assertEquals(List.of(), missing.stream().limit(20).collect(Collectors.toList()),
                missing.size() + " committed rows lost or changed");
        return checked;
    }

    /** Queries LIKE {@code like} running now on all servers together. */
    int activeQueries(String like) throws SQLException {
        int n = 0;
        for (int port : serverPorts()) {
            try (Connection c = direct(port); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '" + like + "'"
                            + " AND pid <> pg_backend_pid()")) {
                rs.next();
                n += rs.getInt(1);
            }
        }
        return n;
    }

    /** Rows on the primary whose tag matches the LIKE pattern. */
    long rowsTagged(String like) throws SQLException {
        try (Connection c = direct(cluster.primaryPort()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + MixedLoad.TABLE + " WHERE tag LIKE '" + like
                     + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The results as a Markdown table. */
    String table() {
        StringBuilder t = new StringBuilder("| fault | injected | clients saw | wrong answers | recovery"
                + " | checks after it (load paused) | also measured | result |\n|---|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            t.append("| ").append(String.join(" | ", r.fault(), r.injected(), r.clientsSaw(),
                    Long.toString(r.wrong()), r.recovery(), r.checks(), r.measured(), r.result())).append(" |\n");
        }
        return t.toString();
    }

    @Override
    public void close() throws SQLException {
        console.close();
    }
}

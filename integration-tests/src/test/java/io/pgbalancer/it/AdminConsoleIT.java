// purpose: the admin console end to end: psql and pgjdbc (simple queries) read SHOW POOLS/SERVERS/BACKENDS/CLIENTS, BAN and
// UNBAN move reads, non-admin users get FATAL 42501, and database "pgbalancer" never reaches a server.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminConsoleIT {
    private static final String CONFIG = "admin: {users: [app]}\nrouting: {balance: round-robin}\n";

    @TempDir
    Path dir;

    private static Connection admin(TestProxy proxy, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection(proxy.jdbcUrl("pgbalancer"), p);
    }

    /** Every row as column name → value, in order. */
    /** Every row of a query as column name to text value (admin console answers). */
    static List<Map<String, String>> rows(Statement st, String sql) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static List<String> columns(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            List<String> names = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                names.add(rs.getMetaData().getColumnName(i));
            }
            return names;
        }
    }

    private static Set<Integer> readPorts(Statement reads, int n) throws SQLException {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < n; i++) {
            try (ResultSet rs = reads.executeQuery("select inet_server_port()")) {
                rs.next();
                ports.add(rs.getInt(1));
            }
        }
        return ports;
    }

    @Test
    void pgjdbcShowsPoolsBackendsAndClientsAndBanMovesReads() throws Exception {
        List<Integer> replicas = TestCluster.get().replicaPorts();
        try (TestProxy proxy = TestProxy.startWithReplicas(CONFIG);
             Connection app = proxy.connect(); Statement reads = app.createStatement();
             Connection console = admin(proxy, "app", TestCluster.APP_PASSWORD);
             Statement st = console.createStatement()) {
            Poll.until(Duration.ofSeconds(20), "the monitor sees 3 replicas up", () -> rows(st, "show backends")
                    .stream().filter(r -> r.get("role").equals("replica") && r.get("up").equals("yes")).count() == 3);
            assertEquals(Set.copyOf(replicas), readPorts(reads, 30), "round-robin reads use every replica");

            List<Map<String, String>> backends = rows(st, "SHOW BACKENDS;");
            assertEquals(4, backends.size());
            assertEquals(List.of("backend", "role", "up", "banned", "wal_position", "lag_bytes", "lag_seconds",
                    "weight", "outstanding", "transactions", "share_percent"), List.copyOf(backends.get(0).keySet()));
            assertEquals("127.0.0.1:" + TestCluster.get().primaryPort(), backends.get(0).get("backend"));
            assertEquals("primary", backends.get(0).get("role"));
            for (Map<String, String> b : backends) {
                assertEquals("yes", b.get("up"), b.toString());
                assertEquals("no", b.get("banned"), b.toString());
                assertTrue(b.get("wal_position").matches("[0-9A-F]+/[0-9A-F]+"), b.toString());
            }
            long replicaTransactions = backends.stream().filter(b -> b.get("role").equals("replica"))
                    .mapToLong(b -> Long.parseLong(b.get("transactions"))).sum();
            assertTrue(replicaTransactions >= 30, backends.toString());

            List<Map<String, String>> pools = rows(st, "show pools");
            assertEquals(List.of("database", "user", "backend", "role", "pool_mode", "connections", "idle", "active",
                    "waiting"), columns(st, "show pools"));
            assertTrue(pools.stream().anyMatch(p -> p.get("database").equals("app") && p.get("user").equals("app")
                    && p.get("role").equals("replica") && p.get("pool_mode").equals("transaction")
                    && Integer.parseInt(p.get("connections")) >= 1), pools.toString());
            assertTrue(pools.stream().noneMatch(p -> p.get("database").equals("pgbalancer")), pools.toString());

            List<Map<String, String>> clients = rows(st, "Show Clients");
            assertEquals(List.of("user", "database", "address", "state", "pinned"),
                    List.copyOf(clients.get(0).keySet()));
            assertTrue(clients.stream().anyMatch(c -> c.get("user").equals("app") && c.get("database").equals("app")
                    && c.get("address").contains("127.0.0.1") && c.get("state").equals("idle")
                    && c.get("pinned").equals("no")), clients.toString());
            assertTrue(clients.stream().anyMatch(c -> c.get("database").equals("pgbalancer")
                    && c.get("user").equals("app")), "the console's own session is listed: " + clients);

            int banned = replicas.get(1);
            st.execute("BAN 127.0.0.1:" + banned);
            assertEquals("admin", rows(st, "show backends").stream()
                    .filter(b -> b.get("backend").equals("127.0.0.1:" + banned)).findFirst().orElseThrow()
                    .get("banned"));
            Set<Integer> whileBanned = readPorts(reads, 30);
            assertFalse(whileBanned.contains(banned), "BAN keeps reads away: " + whileBanned);
            assertEquals(2, whileBanned.size(), "the other replicas still take reads: " + whileBanned);

            st.execute("unban 127.0.0.1:" + banned + ";");
            assertTrue(readPorts(reads, 30).contains(banned), "UNBAN brings the replica back");

            SQLException unknown = assertThrows(SQLException.class, () -> st.execute("BAN 127.0.0.1:1"));
            assertEquals("42704", unknown.getSQLState());
            assertTrue(unknown.getMessage().contains("127.0.0.1:" + banned), unknown.getMessage());
            SQLException bad = assertThrows(SQLException.class, () -> st.execute("select 1"));
            assertEquals("42601", bad.getSQLState());
            assertTrue(bad.getMessage().contains("try SHOW HELP"), bad.getMessage());
            assertEquals(List.of(Map.of("reload", "no change to apply")), rows(st, "RELOAD"),
                    "the file did not change");
            assertEquals(1, rows(st, "show version").size(), "the session survives errors");
        }
    }

    @Test
    void showServersListsEachBackendConnectionWithTheClientHoldingIt() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(CONFIG); Connection client = proxy.connect();
             Connection a = admin(proxy, "app", TestCluster.APP_PASSWORD); Statement st = a.createStatement()) {
            client.setAutoCommit(false);
            int pid;
            try (Statement q = client.createStatement();
                 ResultSet rs = q.executeQuery("/* pgbalancer: primary */ SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1); // the transaction holds the primary's connection until it ends
            }
            List<Map<String, String>> servers = rows(st, "SHOW SERVERS");
            assertEquals(List.of("backend", "role", "database", "user", "state", "pid", "age_seconds", "client"),
                    columns(st, "SHOW SERVERS"));
            Map<String, String> held = servers.stream().filter(r -> r.get("pid").equals(String.valueOf(pid)))
                    .findFirst().orElseThrow(() -> new AssertionError("pid " + pid + " not in " + servers));
            assertEquals("active", held.get("state"), held.toString());
            assertEquals("primary", held.get("role"));
            assertEquals("127.0.0.1:" + TestCluster.get().primaryPort(), held.get("backend"));
            assertTrue(held.get("client").startsWith("app@/127.0.0.1:"), held.toString());
            client.commit();
            Map<String, String> released = rows(st, "SHOW SERVERS").stream()
                    .filter(r -> r.get("pid").equals(String.valueOf(pid))).findFirst().orElseThrow();
            assertEquals("idle", released.get("state"), released.toString());
            assertEquals("", released.get("client"));
        }
    }

    @Test
    void nonAdminUsersAreRefusedAfterAuthenticationAndNothingReachesAServer() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(CONFIG)) {
            SQLException refused = assertThrows(SQLException.class,
                    () -> admin(proxy, "md5user", TestCluster.MD5_PASSWORD).close());
            assertEquals("42501", refused.getSQLState(), refused.getMessage());
            assertTrue(refused.getMessage().contains("permission denied: user \"md5user\" may not use the admin"
                    + " console (admin.users)"), refused.getMessage());
            SQLException wrongPassword = assertThrows(SQLException.class,
                    () -> admin(proxy, "clearuser", "wrong").close());
            assertEquals("28P01", wrongPassword.getSQLState(), "authentication comes first");

            try (Connection superuser = TestCluster.directSuperuser("postgres");
                 Statement direct = superuser.createStatement();
                 Connection console = admin(proxy, "app", TestCluster.APP_PASSWORD);
                 Statement st = console.createStatement()) {
                assertEquals(15, rows(st, "show help").size(), "logged in without a server");
                try (ResultSet rs = direct.executeQuery("select count(*) from pg_database where datname ="
                        + " 'pgbalancer'")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1), "the console's database does not exist on the server");
                }
                try (ResultSet rs = direct.executeQuery("select count(*) from pg_stat_activity where datname ="
                        + " 'pgbalancer'")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1));
                }
            }
            try (Connection normal = DriverManager.getConnection(proxy.jdbcUrl("app"), "app",
                    TestCluster.APP_PASSWORD); Statement st = normal.createStatement();
                 ResultSet rs = st.executeQuery("select current_database()")) {
                rs.next();
                assertEquals("app", rs.getString(1), "an admin user elsewhere gets a normal session");
            }
        }
    }

    @Test
    void psqlPrintsTables() throws Exception {
        Optional<Path> psql = TestCluster.get().binaries().find("psql");
        Assumptions.assumeTrue(psql.isPresent(), "psql is not available with these PostgreSQL binaries");
        try (TestProxy proxy = TestProxy.startWithReplicas(CONFIG)) {
            List<String> cmd = List.of(psql.get().toString(), "-X", "-A", "-F", "|", "-v", "ON_ERROR_STOP=1",
                    "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "-U", "app", "-d", "pgbalancer",
                    "-c", "SHOW BACKENDS", "-c", "show version;", "-c", "SHOW POOLS; SHOW HELP");
            PsqlIT.Result r = PsqlIT.run(cmd, Map.of("PGPASSWORD", TestCluster.APP_PASSWORD), dir, 60);
            assertEquals(0, r.exit(), r.describe());
            List<String> lines = r.stdoutLines();
            int header = lines.indexOf("backend|role|up|banned|wal_position|lag_bytes|lag_seconds|weight|outstanding"
                    + "|transactions|share_percent");
            assertTrue(header >= 0, r.describe());
            assertEquals("(4 rows)", lines.get(header + 5), r.describe());
            assertTrue(lines.contains("version"), r.describe());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("pgbalancer ")), r.describe());
            assertTrue(lines.contains("command|description"), r.describe());
            assertTrue(lines.contains("BAN host:port|keep reads away from a server until UNBAN"), r.describe());

            List<String> refused = List.of(psql.get().toString(), "-X", "-h", "127.0.0.1", "-p",
                    Integer.toString(proxy.port()), "-U", "md5user", "-d", "pgbalancer", "-c", "SHOW POOLS");
            PsqlIT.Result no = PsqlIT.run(refused, Map.of("PGPASSWORD", TestCluster.MD5_PASSWORD), dir, 60);
            assertEquals(2, no.exit(), no.describe());
            assertTrue(no.stderr().contains("may not use the admin console"), no.describe());
        }
    }

    @Test
    void pauseHoldsNewTransactionsUntilResumeWithZeroClientErrorsAndShutdownDrains() throws Exception {
        TestProxy proxy = TestProxy.startWithReplicas(CONFIG + "pool: {mode: transaction, size: 4, checkout_timeout: 30s}\n");
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> errors = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try (Connection adm = admin(proxy, "app", TestCluster.APP_PASSWORD); Statement ctl = adm.createStatement();
             Connection inTx = proxy.connect()) {
            for (int i = 0; i < 4; i++) {
                pool.submit(() -> {
                    try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                        while (!stop.get()) {
                            st.executeQuery("SELECT 1").close();
                            done.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                    return null;
                });
            }
            Poll.until(java.time.Duration.ofSeconds(10), "load running", () -> done.get() > 100);
            inTx.setAutoCommit(false);
            inTx.createStatement().execute("SELECT txid_current()"); // a running transaction PAUSE must wait for
            java.util.concurrent.CompletableFuture<Long> paused = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        long t0 = System.nanoTime();
                        try {
                            ctl.execute("PAUSE app");
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                        return System.nanoTime() - t0;
                    });
            Thread.sleep(300);
            assertFalse(paused.isDone(), "PAUSE returns only once the running transaction finished");
            inTx.commit();
            paused.get(10, java.util.concurrent.TimeUnit.SECONDS);
            int atPause = done.get();
            Thread.sleep(500);
            assertTrue(done.get() - atPause <= 4, "while paused no new transaction runs (" + (done.get() - atPause)
                    + " ran; at most the 4 in flight may finish)");
            ctl.execute("RESUME app");
            Poll.until(java.time.Duration.ofSeconds(10), "transactions run again", () -> done.get() > atPause + 100);
            stop.set(true);
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(List.of(), new java.util.ArrayList<>(errors), "client errors during PAUSE/RESUME");

            ctl.execute("SHUTDOWN");
            Poll.until(java.time.Duration.ofSeconds(20), "the listener closed after SHUTDOWN", () -> {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port())) {
                    return false;
                } catch (java.io.IOException refused) {
                    return true;
                }
            });
        } finally {
            stop.set(true);
            pool.shutdownNow();
            proxy.close();
        }
    }
}

// purpose: live reload end to end: a replica added and another removed under load with no client error, an invalid
// file rejected whole while the service carries on, restart-only keys reported, passwords rotated, ConfigMap swaps.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LiveReloadIT {
    private static final int CLIENTS = 8;
    private static List<Integer> replicas;
    private static int primary;

    @TempDir
    Path dir;

    @BeforeAll
    static void table() throws Exception {
        replicas = TestCluster.get().replicaPorts();
        primary = TestCluster.get().primaryPort();
        try (Connection c = TestCluster.directSuperuser("app"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS reload_load (client int, n int, PRIMARY KEY (client, n))");
            st.execute("GRANT ALL ON reload_load TO app");
            st.execute("TRUNCATE reload_load");
        }
    }

    /** Backends: the primary and the replicas at these indexes of the test cluster. */
    private static String backends(int... replicaIndexes) {
        StringBuilder y = new StringBuilder("backends:\n  - {host: 127.0.0.1, port: " + primary + ", role: primary}\n");
        for (int i : replicaIndexes) {
            y.append("  - {host: 127.0.0.1, port: ").append(replicas.get(i)).append(", role: replica}\n");
        }
        return y.toString();
    }

    /** Replaces the backends section of a configuration text. */
    private static String withBackends(String yaml, String backends) {
        return yaml.replaceAll("(?s)backends:\n(  - [^\n]*\n)+", java.util.regex.Matcher.quoteReplacement(backends));
    }

    private static Connection admin(TestProxy proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection(proxy.jdbcUrl("pgbalancer"), p);
    }

    private static List<String> column(Statement st, String sql, String column) throws SQLException {
        List<String> values = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(column));
            }
        }
        return values;
    }

    @Test
    void aReplicaAddedAndAnotherRemovedUnderLoadWithoutOneClientError() throws Exception {
        String http = TestProxy.metricsYaml();
        String yaml = TestProxy.yaml(http + "admin: {users: [app]}\nrouting: {causal_wait: 10s}\n"
                + "pool: {size: 4, checkout_timeout: 10s}\n" + backends(0, 1));
        Path file = TestProxy.temporaryFile(yaml);
        int removed = replicas.get(0);
        int added = replicas.get(2);
        try (TestProxy proxy = TestProxy.startFrom(file)) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong reloadedAt = new AtomicLong(Long.MAX_VALUE);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Set<Integer> portsBefore = ConcurrentHashMap.newKeySet();
            Set<Integer> portsAfter = ConcurrentHashMap.newKeySet();
            AtomicLong readsOnRemovedAfter = new AtomicLong();
            AtomicLong transactions = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    try (Connection conn = proxy.connect();
                         PreparedStatement write = conn.prepareStatement("INSERT INTO reload_load VALUES (?, ?)");
                         PreparedStatement read = conn.prepareStatement(
                                 "SELECT count(*), inet_server_port() FROM reload_load WHERE client = ?")) {
                        int n = 0;
                        while (running.get()) {
                            n++;
                            write.setInt(1, client);
                            write.setInt(2, n);
                            write.executeUpdate();
                            long started = System.nanoTime();
                            read.setInt(1, client);
                            try (ResultSet rs = read.executeQuery()) {
                                rs.next();
                                assertEquals(n, rs.getInt(1), "client " + client + " must read its own " + n
                                        + " rows");
                                int port = rs.getInt(2);
                                if (started - reloadedAt.get() > 0) {
                                    portsAfter.add(port);
                                    if (port == removed) {
                                        readsOnRemovedAfter.incrementAndGet();
                                    }
                                } else {
                                    portsBefore.add(port);
                                }
                            }
                            transactions.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            Poll.until(Duration.ofSeconds(30), "reads on both replicas before the reload",
                    () -> portsBefore.containsAll(Set.of(replicas.get(0), replicas.get(1))) || !errors.isEmpty());
            // the edit a user makes: the file changes, pgbalancer notices (no signal, no RELOAD)
            Files.writeString(file, withBackends(yaml, backends(1, 2)));
            Poll.until(Duration.ofSeconds(10), "the file change to be applied",
                    () -> proxy.metric("pgbalancer_config_reloads_total", "result", "ok") >= 1);
            reloadedAt.set(System.nanoTime());
            Poll.until(Duration.ofSeconds(30), "reads on the added replica",
                    () -> portsAfter.contains(added) || !errors.isEmpty());
            long atAdded = transactions.get();
            Poll.until(Duration.ofSeconds(30), "more load after the new replica served", () ->
                    transactions.get() > atAdded + 200 || !errors.isEmpty());
            Poll.until(Duration.ofSeconds(15), "the removed replica's pooled connections to close",
                    () -> Servers.appConnections(removed) == 0);
            running.set(false);
            for (Future<?> f : clients) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            if (!errors.isEmpty()) {
                AssertionError failure = new AssertionError(errors.size() + " client error(s) during the reload");
                errors.forEach(failure::addSuppressed);
                throw failure;
            }
            assertEquals(0, readsOnRemovedAfter.get(), "reads that started after the reload on the removed replica");
            assertTrue(portsAfter.contains(replicas.get(1)), "the kept replica still serves: " + portsAfter);
            try (Connection a = admin(proxy); Statement st = a.createStatement()) {
                List<String> listed = column(st, "SHOW BACKENDS", "backend");
                assertEquals(List.of("127.0.0.1:" + primary, "127.0.0.1:" + replicas.get(1),
                        "127.0.0.1:" + added), listed);
            }
            assertEquals(0, proxy.metric("pgbalancer_backend_up", "backend", "127.0.0.1:" + removed),
                    "the removed replica's meters are gone");
            assertEquals(1, proxy.metric("pgbalancer_backend_up", "backend", "127.0.0.1:" + added));
        }
    }

    @Test
    void anInvalidFileIsRejectedWholeWithEveryProblemAndTheServiceCarriesOn() throws Exception {
        String http = TestProxy.metricsYaml();
        String yaml = TestProxy.yaml(http + "admin: {users: [app]}\npool: {size: 5}\n" + backends(0, 1, 2));
        Path file = TestProxy.temporaryFile(yaml);
        try (TestProxy proxy = TestProxy.startFrom(file);
             Connection client = proxy.connect(); Connection a = admin(proxy); Statement st = a.createStatement()) {
            try (Statement q = client.createStatement(); ResultSet rs = q.executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            List<String> before = column(st, "SHOW BACKENDS", "backend");
            // one good change (a replica fewer) and two bad values: nothing may be applied
            String broken = withBackends(yaml, backends(0)).replace("pool: {size: 5}",
                    "pool: {size: -3, checkout_timeout: soon}");
            Files.writeString(file, broken);
            SQLException e = assertThrows(SQLException.class, () -> st.execute("RELOAD"));
            assertEquals("F0000", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("2 problems") && e.getMessage().contains("pool.size")
                    && e.getMessage().contains("pool.checkout_timeout"), e.getMessage());
            assertTrue(e.getMessage().contains("the running one stays"), e.getMessage());
            assertEquals(before, column(st, "SHOW BACKENDS", "backend"), "no server removed");
            assertTrue(column(st, "SHOW CONFIG", "value").contains("5"), "pool size unchanged");
            try (Statement q = client.createStatement(); ResultSet rs = q.executeQuery("SELECT 2")) {
                assertTrue(rs.next(), "the connected client carries on");
                assertEquals(2, rs.getInt(1));
            }
            try (Connection fresh = proxy.connect(); Statement q = fresh.createStatement();
                 ResultSet rs = q.executeQuery("SELECT 3")) {
                assertTrue(rs.next(), "new clients still log in");
            }
            // RELOAD's rejection is counted (the watcher does not retry a text already rejected); nothing applied
            Poll.until(Duration.ofSeconds(10), "the rejection to be counted",
                    () -> proxy.metric("pgbalancer_config_reloads_total", "result", "failed") >= 1);
            assertEquals(0, proxy.metric("pgbalancer_config_reloads_total", "result", "ok"));
        }
    }

    @Test
    void restartOnlyKeysAreReportedWhileTheRestApplies() throws Exception {
        String yaml = TestProxy.yaml("admin: {users: [app]}\npool: {size: 5}\n" + backends(0));
        Path file = TestProxy.temporaryFile(yaml);
        try (TestProxy proxy = TestProxy.startFrom(file); Connection a = admin(proxy);
             Statement st = a.createStatement()) {
            int otherPort = TestProxy.freePort();
            Files.writeString(file, yaml.replace("port: " + proxy.port() + "}", "port: " + otherPort + "}")
                    .replace("pool: {size: 5}", "pool: {size: 7}"));
            // the file watcher may apply the change first; then RELOAD finds only the restart-only key left
            String reply = column(st, "RELOAD", "reload").get(0);
            assertTrue(reply.contains("needs a restart: listen"), reply);
            assertTrue(reply.contains(String.valueOf(otherPort)), reply);
            List<String> settings = column(st, "SHOW CONFIG", "key");
            List<String> values = column(st, "SHOW CONFIG", "value");
            assertEquals("7", values.get(settings.indexOf("pool.size")));
            assertEquals(String.valueOf(proxy.port()), values.get(settings.indexOf("listen.port")),
                    "the running listen port stays until a restart");
            try (Connection c = proxy.connect(); Statement q = c.createStatement();
                 ResultSet rs = q.executeQuery("SELECT 1")) {
                assertTrue(rs.next(), "still listening where it was");
            }
        }
    }

    @Test
    void aRotatedPasswordAppliesToNewLoginsAndKeepsConnectedClients() throws Exception {
        try (Connection c = TestCluster.directSuperuser("app"); Statement st = c.createStatement()) {
            st.execute("DROP ROLE IF EXISTS rotator");
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE rotator LOGIN PASSWORD 'first-secret'");
            st.execute("GRANT CONNECT ON DATABASE app TO rotator");
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
        String users = "auth:\n  method: scram-sha-256\n  users:\n    - {name: app, password: \"${APP_PASSWORD}\"}\n"
                + "    - {name: rotator, password: %s}\n";
        String yaml = TestProxy.yaml("admin: {users: [app]}\n" + users.formatted("first-secret") + backends(0, 1));
        Path file = TestProxy.temporaryFile(yaml);
        try (TestProxy proxy = TestProxy.startFrom(file);
             Connection before = DriverManager.getConnection(proxy.jdbcUrl("app"), "rotator", "first-secret")) {
            try (Connection c = TestCluster.directSuperuser("app"); Statement st = c.createStatement()) {
                st.execute("SET password_encryption = 'scram-sha-256'");
                st.execute("ALTER ROLE rotator PASSWORD 'second-secret'");
            }
            Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
            Files.writeString(file, yaml.replace("first-secret", "second-secret"));
            assertTrue(proxy.reload().ok(), "reload with the new password");
            SQLException refused = assertThrows(SQLException.class,
                    () -> DriverManager.getConnection(proxy.jdbcUrl("app"), "rotator", "first-secret").close());
            assertEquals("28P01", refused.getSQLState(), refused.getMessage());
            try (Connection after = DriverManager.getConnection(proxy.jdbcUrl("app"), "rotator", "second-secret");
                 Statement st = after.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user")) {
                assertTrue(rs.next());
                assertEquals("rotator", rs.getString(1));
            }
            try (Statement st = before.createStatement(); ResultSet rs = st.executeQuery("SELECT 42")) {
                assertTrue(rs.next(), "the client connected before the rotation stays connected");
                assertEquals(42, rs.getInt(1));
            }
        }
    }

    /**
     * A Kubernetes ConfigMap volume: {@code pgbalancer.yaml -> ..data/pgbalancer.yaml}, {@code ..data -> ..v1}; an
     * update writes {@code ..v2} and renames a new link over {@code ..data}, so the file itself is never written.
     */
    @Test
    void aConfigMapStyleSymlinkSwapIsNoticed() throws Exception {
        String http = TestProxy.metricsYaml();
        String yaml = TestProxy.yaml(http + "admin: {users: [app]}\npool: {size: 5}\n" + backends(0));
        Path v1 = Files.createDirectory(dir.resolve("..v1"));
        Files.writeString(v1.resolve("pgbalancer.yaml"), yaml);
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("pgbalancer.yaml"), Path.of("..data", "pgbalancer.yaml"));
        try (TestProxy proxy = TestProxy.startFrom(file); Connection a = admin(proxy);
             Statement st = a.createStatement()) {
            Path v2 = Files.createDirectory(dir.resolve("..v2"));
            Files.writeString(v2.resolve("pgbalancer.yaml"), withBackends(yaml, backends(0, 2)));
            Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
            Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Poll.until(Duration.ofSeconds(10), "the swap to be applied",
                    () -> proxy.metric("pgbalancer_config_reloads_total", "result", "ok") == 1);
            assertEquals(3, column(st, "SHOW BACKENDS", "backend").size());
            assertFalse(column(st, "SHOW BACKENDS", "backend").contains("127.0.0.1:" + replicas.get(1)));
        }
    }
}

// purpose: the built pgbalancer.jar as a user runs it: --version, --help, check-config, run with bad config, SIGTERM drain, SIGHUP reload.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliIT {
    private static final List<String> BAD_PATHS = List.of("listen.port", "pool.mode", "pool.size", "pool.sise",
            "auth.users[0].password", "backends", "shutdown.grace_period");
    private static final String BAD_YAML = String.join("\n",
            "listen: {host: 127.0.0.1, port: 99999}",
            "pool: {mode: sometimes, size: -3, sise: 4}",
            "auth:",
            "  method: scram-sha-256",
            "  users:",
            "    - {name: app}",
            "backends:",
            "  - {host: 127.0.0.1, port: 5432, role: replica}",
            "shutdown: {grace_period: forever}",
            "");
    private static final int GRACE_SECONDS = 10;

    private static Path jar;

    @TempDir
    Path dir;

    @BeforeAll
    static void findJar() {
        jar = Path.of(System.getProperty("user.dir")).resolve("../pgbalancer/target/pgbalancer.jar").normalize();
        assertTrue(Files.isRegularFile(jar), "build the jar first (mvn package): " + jar);
    }

    @Test
    void versionAndHelp() throws Exception {
        PsqlIT.Result version = pgbalancer("--version");
        assertEquals(0, version.exit(), version.describe());
        assertTrue(version.stdout().startsWith("pgbalancer "), version.describe());
        assertTrue(version.stdout().contains("Java " + System.getProperty("java.specification.version")),
                version.describe());

        PsqlIT.Result help = pgbalancer("--help");
        assertEquals(0, help.exit(), help.describe());
        assertTrue(help.stdout().startsWith("Usage: pgbalancer"), help.describe());
        for (String word : List.of("run", "check-config", "demo", "--version", "--help")) {
            assertTrue(help.stdout().contains(word), "help mentions " + word + ": " + help.describe());
        }

        PsqlIT.Result runHelp = pgbalancer("run", "--help");
        assertEquals(0, runHelp.exit(), runHelp.describe());
        assertTrue(runHelp.stdout().contains("--config"), runHelp.describe());
    }

    @Test
    void checkConfigOfAGoodFilePrintsOneSummaryLine() throws Exception {
        int port = TestProxy.freePort();
        Path good = write("good.yaml", goodYaml(port));
        PsqlIT.Result r = pgbalancer("check-config", good.toString());
        assertEquals(0, r.exit(), r.describe());
        List<String> lines = r.stdoutLines();
        assertEquals(1, lines.size(), r.describe());
        String summary = lines.get(0);
        assertTrue(summary.startsWith("config OK"), summary);
        assertTrue(summary.contains("127.0.0.1:" + port), summary);
        assertTrue(summary.contains("transaction pooling"), summary);
        assertTrue(summary.contains("pool size 3"), summary);
        assertTrue(summary.contains("1 primary"), summary);
        assertTrue(summary.contains("1 user (scram-sha-256)"), summary);
    }

    @Test
    void checkConfigOfABadFileListsEveryProblemAndExits1() throws Exception {
        Path bad = write("bad.yaml", BAD_YAML);
        PsqlIT.Result r = pgbalancer("check-config", bad.toString());
        assertEquals(1, r.exit(), r.describe());
        assertEveryProblemListed(r.stderr(), bad);
    }

    @Test
    void runWithABadFileListsEveryProblemAndExits2() throws Exception {
        Path bad = write("bad.yaml", BAD_YAML);
        PsqlIT.Result r = pgbalancer("run", "--config", bad.toString());
        assertEquals(2, r.exit(), r.describe());
        assertEveryProblemListed(r.stderr(), bad);
    }

    @Test
    void sigtermLetsTheRunningTransactionCommitThenExits0() throws Exception {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("drop table if exists cli_it_shutdown");
            st.execute("create table cli_it_shutdown (id int)");
            st.execute("alter table cli_it_shutdown owner to app");
        }
        int port = TestProxy.freePort();
        Path config = write("good.yaml", goodYaml(port));
        Path out = dir.resolve("run.out");
        Path err = dir.resolve("run.err");
        Process proxy = run(config, out, err, Map.of());
        try {
            awaitListening(proxy, port, out, err);
            try (Connection inTx = connect(port); Connection idle = connect(port)) {
                inTx.setAutoCommit(false);
                Statement tx = inTx.createStatement();
                tx.executeUpdate("insert into cli_it_shutdown values (1)");
                try (Statement s = idle.createStatement()) {
                    s.execute("select 1");
                }

                long sigterm = System.nanoTime();
                proxy.destroy(); // SIGTERM
                assertRefusesNewConnections(port, proxy, out, err);

                tx.executeUpdate("insert into cli_it_shutdown values (2)");
                inTx.commit();
                long committedMillis = (System.nanoTime() - sigterm) / 1_000_000;
                assertTrue(committedMillis < GRACE_SECONDS * 1000L, "committed " + committedMillis + " ms after SIGTERM");

                // idle clients are closed at once, and the transaction's client right after its commit
                assertThrows(SQLException.class, () -> idle.createStatement().execute("select 1"),
                        "an idle client must be disconnected during shutdown");
                assertThrows(SQLException.class, () -> inTx.createStatement().execute("select 1"),
                        "the client must be disconnected once its transaction ended");

                assertTrue(proxy.waitFor(5, TimeUnit.SECONDS), "pgbalancer must exit soon after the last transaction "
                        + "ended (grace period " + GRACE_SECONDS + " s)\n" + logs(out, err));
                assertEquals(0, proxy.exitValue(), "exit status after SIGTERM\n" + logs(out, err));
            }
        } finally {
            if (proxy.isAlive()) {
                proxy.destroyForcibly();
                proxy.waitFor(10, TimeUnit.SECONDS);
            }
        }
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            ResultSet rs = st.executeQuery("select string_agg(id::text, ',' order by id) from cli_it_shutdown");
            rs.next();
            assertEquals("1,2", rs.getString(1), "the transaction running at SIGTERM must have committed");
        }
    }

    /** SIGHUP reloads (PgBouncer's convention) instead of ending the JVM, whose default for it is to exit. */
    @Test
    void sighupReloadsTheFileAndKeepsServing() throws Exception {
        int port = TestProxy.freePort();
        Path config = write("hup.yaml", goodYaml(port));
        Path out = dir.resolve("hup.out");
        Path err = dir.resolve("hup.err");
        Process proxy = run(config, out, err, Map.of());
        try {
            awaitListening(proxy, port, out, err);
            try (Connection c = connect(port)) {
                Files.writeString(config, goodYaml(port).replace("size: 3", "size: 6"));
                Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(proxy.pid())).start();
                assertEquals(0, kill.waitFor(), "kill -HUP");
                Poll.until(Duration.ofSeconds(10), "the SIGHUP reload to be logged",
                        () -> logs(out, err).contains("(SIGHUP)") || !proxy.isAlive());
                assertTrue(proxy.isAlive(), "pgbalancer must survive SIGHUP\n" + logs(out, err));
                assertTrue(logs(out, err).contains("config reloaded from " + config + " (SIGHUP)"), logs(out, err));
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 7")) {
                    assertTrue(rs.next(), "the client connected before the reload carries on");
                    assertEquals(7, rs.getInt(1));
                }
            }
            proxy.destroy();
            assertTrue(proxy.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, proxy.exitValue(), logs(out, err));
        } finally {
            if (proxy.isAlive()) {
                proxy.destroyForcibly();
                proxy.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * listen.transport io_uring in a process of its own (one transport per process): it serves, says which, and
     * messages far larger than one read (a 300 KB parameter, a 1 MB value) and many small ones arrive whole in both
     * directions.
     */
    @Test
    void ioUringTransportServesQueries() throws Exception {
        int port = TestProxy.freePort();
        Path config = write("uring.yaml", goodYaml(port).replace("listen: {host: 127.0.0.1, port: " + port + "}",
                "listen: {host: 127.0.0.1, port: " + port + ", transport: io_uring}"));
        Path out = dir.resolve("uring.out");
        Path err = dir.resolve("uring.err");
        Process proxy = run(config, out, err, Map.of());
        try {
            awaitListening(proxy, port, out, err);
            // the port accepts as soon as it is bound; the line naming the transport is logged just after
            Poll.until(Duration.ofSeconds(10), "the listening line", () -> logs(out, err).contains("listening on"));
            boolean uring = io.netty.channel.uring.IoUring.isAvailable();
            assertTrue(logs(out, err).contains(uring ? "(io_uring transport" : "(epoll transport"), logs(out, err));
            try (Connection c = connect(port); Statement st = c.createStatement()) {
                for (int i = 0; i < 100; i++) {
                    try (ResultSet rs = st.executeQuery("select " + i)) {
                        assertTrue(rs.next());
                        assertEquals(i, rs.getInt(1));
                    }
                }
                String big = "x".repeat(300_000) + "end";
                try (PreparedStatement ps = c.prepareStatement("select md5(?), length(?), repeat(?, 100000)")) {
                    ps.setString(1, big);
                    ps.setString(2, big);
                    ps.setString(3, "abcdefghij");
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(md5(big), rs.getString(1));
                        assertEquals(big.length(), rs.getInt(2));
                        assertEquals("abcdefghij".repeat(100_000), rs.getString(3));
                    }
                }
            }
        } finally {
            proxy.destroy();
            proxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String md5(String s) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static void assertEveryProblemListed(String stderr, Path file) {
        List<String> lines = stderr.lines().filter(l -> !l.isBlank()).toList();
        assertTrue(lines.get(0).contains(BAD_PATHS.size() + " problems"), stderr);
        for (String path : BAD_PATHS) {
            // "  bad.yaml:LINE:COL: path: message"
            boolean listed = lines.stream().anyMatch(l -> l.contains(file.toString()) && l.contains(": " + path + ": "));
            assertTrue(listed, "problem at " + path + " listed with file and position:\n" + stderr);
        }
        assertEquals(BAD_PATHS.size() + 1, lines.size(), "a header and one line per problem:\n" + stderr);
    }

    @Test
    void pgbalancerLogFormatJsonWritesOneJsonObjectPerLine() throws Exception {
        int port = TestProxy.freePort();
        Path config = write("json-logs.yaml", goodYaml(port));
        Path out = dir.resolve("json.out");
        Path err = dir.resolve("json.err");
        Process proxy = run(config, out, err, Map.of("PGBALANCER_LOG_FORMAT", "json"));
        try {
            awaitListening(proxy, port, out, err);
            // the port accepts a moment before the line is logged; SIGTERM before it would cut the log short
            Poll.until(Duration.ofSeconds(20), "the listening line in the log",
                    () -> Files.readString(err).contains("pgbalancer listening"));
        } finally {
            proxy.destroy();
            proxy.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        List<String> lines = Files.readAllLines(err);
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"level\":\"INFO\"") && l.contains("pgbalancer listening")),
                String.join("\n", lines));
        for (String line : lines) {
            assertTrue(line.startsWith("{") && line.endsWith("}"), "not a JSON object: " + line);
            assertTrue(!line.contains(TestCluster.APP_PASSWORD), "a password in the log: " + line);
        }
    }

    /** {@code pgbalancer run --config config}, its output in out and err, APP_PASSWORD and {@code env} set. */
    private static Process run(Path config, Path out, Path err, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(java(), "-jar", jar.toString(), "run", "--config", config.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("APP_PASSWORD", TestCluster.APP_PASSWORD);
        pb.environment().putAll(env);
        return pb.start();
    }

    private static void awaitListening(Process proxy, int port, Path out, Path err) throws Exception {
        try {
            Poll.until(Duration.ofSeconds(30), "pgbalancer to listen on port " + port, () -> {
                if (!proxy.isAlive()) {
                    return true; // reported below
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + logs(out, err), e);
        }
        if (!proxy.isAlive()) {
            fail("pgbalancer exited with " + proxy.exitValue() + " before listening\n" + logs(out, err));
        }
    }

    private static void assertRefusesNewConnections(int port, Process proxy, Path out, Path err) throws Exception {
        try {
            Poll.until(Duration.ofSeconds(3), "pgbalancer to refuse new connections after SIGTERM", () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                    return false;
                } catch (ConnectException e) {
                    return true;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + logs(out, err), e);
        }
        assertTrue(proxy.isAlive(), "pgbalancer must still be running while a transaction is open\n" + logs(out, err));
    }

    private static Connection connect(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", p);
    }

    private static String goodYaml(int port) {
        return String.join("\n",
                "listen: {host: 127.0.0.1, port: " + port + "}",
                "pool: {mode: transaction, size: 3, checkout_timeout: 5s}",
                "auth:",
                "  method: scram-sha-256",
                "  users:",
                "    - {name: app, password: \"${APP_PASSWORD}\"}",
                "backends:",
                "  - {host: 127.0.0.1, port: " + TestCluster.get().primaryPort() + ", role: primary}",
                "shutdown: {grace_period: " + GRACE_SECONDS + "s}",
                "");
    }

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private PsqlIT.Result pgbalancer(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return PsqlIT.run(cmd, Map.of("APP_PASSWORD", TestCluster.APP_PASSWORD), dir, 60);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String logs(Path out, Path err) throws IOException {
        return "--- stdout ---\n" + Files.readString(out) + "\n--- stderr ---\n" + Files.readString(err);
    }
}

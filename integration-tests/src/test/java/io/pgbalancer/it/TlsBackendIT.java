// purpose: pgbalancer reaches servers that have ssl = on per backend_tls (libpq modes): pooled and monitor connections
// use TLS, SCRAM binds to the server certificate, and a wrong certificate or a server without TLS is a clear error.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import io.pgbalancer.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsBackendIT {
    @TempDir
    static Path dir;
    private static LocalCluster cluster;
    private static TestCertificates.Authority ca;
    private static Path caFile;

    @BeforeAll
    static void cluster() throws Exception {
        ca = TestCertificates.authority("database CA");
        caFile = ca.writePem(dir.resolve("db-ca.crt"));
        TestCertificates.PemFiles server = ca.server("db.internal", "127.0.0.1").writePem(dir, "db");
        cluster = LocalCluster.builder().replicas(1)
                .user("app", TestCluster.APP_PASSWORD, "scram-sha-256")
                .database("app")
                .dataFile("server.crt", Files.readString(server.cert()))
                .dataFile("server.key", Files.readString(server.key()))
                .setting("ssl", "on")
                .setting("ssl_cert_file", "server.crt")
                .setting("ssl_key_file", "server.key")
                .log(line -> System.out.println("[tls cluster] " + line))
                .start();
        try (Connection c = superuser(cluster.primaryPort()); Statement st = c.createStatement()) {
            st.execute("create table if not exists tls_probe (id int)");
            st.execute("grant all on tls_probe to app");
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Connection superuser(int port) throws SQLException {
        return DriverManager.getConnection(cluster.jdbcUrl(port, "app"), cluster.superuser(), "");
    }

    private static TestProxy proxy(String backendTls, int primaryPort, int... replicaPorts) {
        StringBuilder y = new StringBuilder("backend_tls: " + backendTls + "\n"
                + "pool: {size: 4, checkout_timeout: 5s}\n"
                + "routing: {causal_wait: 10s}\n"
                + "backends:\n  - {host: 127.0.0.1, port: " + primaryPort + ", role: primary}\n");
        for (int p : replicaPorts) {
            y.append("  - {host: 127.0.0.1, port: ").append(p).append(", role: replica}\n");
        }
        return TestProxy.start(y.toString());
    }

    private static final String SSL_IN_USE = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";

    @Test
    void verifyFullUsesTlsForReadsWritesAndTheMonitor() throws Exception {
        try (TestProxy proxy = proxy("{mode: verify-full, ca: " + caFile + "}", cluster.primaryPort(),
                cluster.replicaPorts().get(0));
             Connection c = proxy.connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select pg_is_in_recovery(), (" + SSL_IN_USE + ")")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "the read ran on the replica");
                assertTrue(rs.getBoolean(2), "over TLS");
            }
            c.setAutoCommit(false);
            st.execute("insert into tls_probe values (1)");
            try (ResultSet rs = st.executeQuery("select pg_is_in_recovery(), (" + SSL_IN_USE + ")")) {
                rs.next();
                assertEquals(false, rs.getBoolean(1), "the write transaction is on the primary");
                assertTrue(rs.getBoolean(2), "over TLS");
            }
            c.commit();
            // SCRAM over TLS: the server offered SCRAM-SHA-256-PLUS; the login above bound to its certificate
            try (Connection direct = superuser(cluster.primaryPort()); Statement d = direct.createStatement()) {
                Poll.until(Duration.ofSeconds(15), "the monitor's connection uses TLS", () -> {
                    try (ResultSet rs = d.executeQuery("select count(*) from pg_stat_activity a join pg_stat_ssl s"
                            + " using (pid) where a.application_name = 'pgbalancer-monitor' and s.ssl")) {
                        rs.next();
                        return rs.getInt(1) > 0;
                    }
                });
                try (ResultSet rs = d.executeQuery("select count(*) from pg_stat_activity a join pg_stat_ssl s"
                        + " using (pid) where a.usename = 'app' and not s.ssl")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1), "no plaintext pooled connection");
                }
            }
        }
    }

    @Test
    void preferUsesTlsWhenOfferedAndDisableDoesNot() throws Exception {
        try (TestProxy prefer = proxy("{mode: prefer}", cluster.primaryPort());
             Connection c = prefer.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(SSL_IN_USE)) {
            rs.next();
            assertTrue(rs.getBoolean(1));
        }
        try (TestProxy disable = proxy("{mode: disable}", cluster.primaryPort());
             Connection c = disable.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(SSL_IN_USE)) {
            rs.next();
            assertEquals(false, rs.getBoolean(1));
        }
    }

    @Test
    void aCertificateFromAnotherAuthorityIsAClearLoginError() throws Exception {
        Path strangerCa = TestCertificates.authority("not the database CA").writePem(dir.resolve("stranger.crt"));
        try (TestProxy proxy = proxy("{mode: verify-ca, ca: " + strangerCa + "}", cluster.primaryPort())) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect().close());
            assertTrue(e.getMessage().contains("TLS handshake with") && e.getMessage().contains("verify-ca"),
                    e.getMessage());
        }
    }

    @Test
    void aServerNameNotInTheCertificateFailsVerifyFull() throws Exception {
        // the certificate names db.internal and 127.0.0.1; "localhost" reaches the same server under another name
        try (TestProxy proxy = TestProxy.start("backend_tls: {mode: verify-full, ca: " + caFile + "}\n"
                + "pool: {size: 2, checkout_timeout: 5s}\n"
                + "backends:\n  - {host: localhost, port: " + cluster.primaryPort() + ", role: primary}\n")) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect().close());
            assertTrue(e.getMessage().contains("TLS handshake with") && e.getMessage().contains("verify-full"),
                    e.getMessage());
        }
    }

    @Test
    void requireAgainstAServerWithoutTlsIsAClearLoginError() throws Exception {
        // the shared test cluster runs with ssl = off
        try (TestProxy proxy = TestProxy.start("backend_tls: {mode: require}\n"
                + "pool: {size: 2, checkout_timeout: 5s}\n")) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect().close());
            assertTrue(e.getMessage().contains("does not accept TLS connections"), e.getMessage());
        }
    }
}

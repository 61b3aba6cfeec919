// purpose: clients reach pgbalancer over TLS: psql and pgjdbc with verify-full, channel binding, direct TLS, require,
// bad certificates each failing on the client's side, client certificates, and a certificate renewed on disk.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgbalancer.protocol.auth.TlsServerEndPoint;
import io.pgbalancer.testing.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsClientIT {
    @TempDir
    static Path dir;
    private static TestCertificates.Authority ca;
    private static Path caFile;
    private static TestCertificates.PemFiles server;
    private static Path psql;

    @BeforeAll
    static void certificates() {
        ca = TestCertificates.authority("pgbalancer test CA");
        caFile = ca.writePem(dir.resolve("ca.crt"));
        server = ca.server("localhost", "127.0.0.1").writePem(dir, "server");
        psql = TestCluster.get().binaries().find("psql").orElse(null);
    }

    private static String tls(String mode, TestCertificates.PemFiles files, String extra) {
        return "tls: {mode: " + mode + ", cert: " + files.cert() + ", key: " + files.key() + extra + "}\n";
    }

    private static PsqlIT.Result psql(TestProxy proxy, String conninfo, String sql) throws Exception {
        assumeTrue(psql != null, "psql is not available");
        return PsqlIT.run(List.of(psql.toString(), "-X", "-A", "-t", "-c", sql,
                        "host=127.0.0.1 port=" + proxy.port() + " user=app dbname=app " + conninfo),
                Map.of("PGPASSWORD", TestCluster.APP_PASSWORD), dir, 60);
    }

    @Test
    void psqlVerifyFullWithChannelBindingOverRoutedReads() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(tls("allow", server, ""))) {
            PsqlIT.Result r = psql(proxy, "sslmode=verify-full sslrootcert=" + caFile + " channel_binding=require",
                    "select pg_is_in_recovery()");
            assertEquals(0, r.exit(), r.describe());
            assertEquals("t", r.stdout().trim(), "the read ran on a replica: " + r.describe());
            PsqlIT.Result info = psql(proxy, "sslmode=require", "\\conninfo");
            assertTrue(info.stdout().contains("SSL connection (protocol: TLSv1."), info.describe());
            // plaintext still allowed with mode allow
            PsqlIT.Result plain = psql(proxy, "sslmode=disable", "select 1");
            assertEquals("1", plain.stdout().trim(), plain.describe());
        }
    }

    @Test
    void pgjdbcVerifyFullWithChannelBindingAndDirectTlsKeepTheirOwnAnswers() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(tls("require", server, ""))) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 6; t++) {
                int id = t;
                threads.add(new Thread(() -> {
                    // half of them negotiate TLS directly (sslNegotiation=direct, ALPN); all bind SCRAM to the channel
                    try (Connection c = proxy.connect("ssl", "true", "sslmode", "verify-full",
                            "sslrootcert", caFile.toString(), "channelBinding", "require",
                            "sslNegotiation", id % 2 == 0 ? "direct" : "postgres"); Statement st = c.createStatement()) {
                        for (int i = 0; i < 200; i++) {
                            String tag = "tls-" + id + "-" + i;
                            try (ResultSet rs = st.executeQuery("select '" + tag + "'")) {
                                rs.next();
                                assertEquals(tag, rs.getString(1));
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(failures.isEmpty(), failures.toString());
        }
    }

    @Test
    void requireRefusesPlaintextLoginsWithAClearError() throws Exception {
        try (TestProxy proxy = TestProxy.start(tls("require", server, ""))) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect("sslmode", "disable").close());
            assertEquals("28000", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("requires TLS (tls.mode require)"), e.getMessage());
            if (psql != null) {
                PsqlIT.Result r = psql(proxy, "sslmode=disable", "select 1");
                assertNotEquals(0, r.exit(), r.describe());
                assertTrue(r.stderr().contains("requires TLS"), r.describe());
            }
            try (Connection c = proxy.connect("sslmode", "require")) {
                assertTrue(c.isValid(5));
            }
        }
    }

    @Test
    void wrongHostUnknownCaAndExpiredCertificateFailOnTheClientOnly() throws Exception {
        TestCertificates.PemFiles otherName = ca.server("db.example.internal").writePem(dir, "other-name");
        TestCertificates.PemFiles expired = ca.expired("localhost", "127.0.0.1").writePem(dir, "expired");
        Path strangerCa = TestCertificates.authority("someone else").writePem(dir.resolve("stranger.crt"));
        try (TestProxy wrongHost = TestProxy.start(tls("allow", otherName, ""));
             TestProxy oldCert = TestProxy.start(tls("allow", expired, ""));
             TestProxy good = TestProxy.start(tls("allow", server, ""));
             Connection bystander = good.connect("sslmode", "verify-full", "sslrootcert", caFile.toString())) {
            SQLException host = assertThrows(SQLException.class, () -> wrongHost.connect("sslmode", "verify-full",
                    "sslrootcert", caFile.toString()).close());
            assertTrue(chain(host).contains("127.0.0.1"), chain(host));
            SQLException unknown = assertThrows(SQLException.class, () -> good.connect("sslmode", "verify-ca",
                    "sslrootcert", strangerCa.toString()).close());
            assertTrue(chain(unknown).toLowerCase().contains("certif"), chain(unknown));
            SQLException old = assertThrows(SQLException.class, () -> oldCert.connect("sslmode", "verify-ca",
                    "sslrootcert", caFile.toString()).close());
            assertTrue(chain(old).toLowerCase().contains("expired") || chain(old).contains("NotAfter"),
                    chain(old));
            if (psql != null) {
                PsqlIT.Result r = psql(wrongHost, "sslmode=verify-full sslrootcert=" + caFile, "select 1");
                assertTrue(r.stderr().contains("does not match host name"), r.describe());
                r = psql(oldCert, "sslmode=verify-ca sslrootcert=" + caFile, "select 1");
                assertTrue(r.stderr().contains("certificate"), r.describe());
            }
            // the refused clients left the proxies serving everyone else
            try (Statement st = bystander.createStatement(); ResultSet rs = st.executeQuery("select 7")) {
                rs.next();
                assertEquals(7, rs.getInt(1));
            }
            try (Connection c = wrongHost.connect("sslmode", "require")) {
                assertTrue(c.isValid(5));
            }
        }
    }

    private static String chain(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            s.append(t).append(" / ");
        }
        return s.toString();
    }

    @Test
    void unencryptedBytesAfterSslRequestAreRefused() throws Exception {
        // CVE-2021-23214: a man in the middle appends plaintext after SSLRequest; it must not be read as a login
        try (TestProxy proxy = TestProxy.start(tls("allow", server, ""));
             Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setSoTimeout(10_000);
            byte[] request = RawLogin.sslRequest();
            byte[] startup = RawLogin.startupPacket("app", "app");
            byte[] both = java.util.Arrays.copyOf(request, request.length + startup.length);
            System.arraycopy(startup, 0, both, request.length, startup.length);
            RawLogin raw = new RawLogin(s);
            raw.send(both);
            RawLogin.Message m = raw.read();
            assertEquals('E', m.type(), m.text());
            assertTrue(m.text().contains("received unencrypted data after SSL request"), m.text());
            assertTrue(m.text().contains("08P01"), m.text());
            assertEquals(-1, s.getInputStream().read(), "the connection is closed");
        }
    }

    @Test
    void directTlsWithAlpnLogsInWithScramPlus() throws Exception {
        try (TestProxy proxy = TestProxy.start(tls("require", server, ""))) {
            try (SSLSocket s = tlsSocket(proxy, "postgresql")) {
                s.startHandshake();
                assertEquals("postgresql", s.getApplicationProtocol());
                X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
                RawLogin raw = new RawLogin(s);
                List<String> offered = raw.login("app", "app", TestCluster.APP_PASSWORD, TlsServerEndPoint.of(leaf));
                assertEquals(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"), offered);
                assertEquals("42", raw.queryOne("select 42"));
            }
            // binding to another certificate's hash (what a man in the middle would present) fails
            try (SSLSocket s = tlsSocket(proxy, "postgresql")) {
                RawLogin raw = new RawLogin(s);
                IOException e = assertThrows(IOException.class,
                        () -> raw.login("app", "app", TestCluster.APP_PASSWORD, new byte[32]));
                assertTrue(e.getMessage().contains("28P01") || e.getMessage().contains("authentication"),
                        e.getMessage());
            }
            // direct TLS without ALPN postgresql is closed, as PostgreSQL does
            try (SSLSocket s = tlsSocket(proxy, null)) {
                s.startHandshake();
                s.getOutputStream().write(RawLogin.startupPacket("app", "app"));
                s.getOutputStream().flush();
                assertEquals(-1, readOrEnd(s));
            }
        }
    }

    private static int readOrEnd(SSLSocket s) {
        try {
            return s.getInputStream().read();
        } catch (IOException e) {
            return -1; // closed with an alert or a reset: also the end
        }
    }

    private static SSLSocket tlsSocket(TestProxy proxy, String alpn) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", proxy.port());
        s.setSoTimeout(10_000);
        if (alpn != null) {
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {alpn});
            s.setSSLParameters(p);
        }
        return s;
    }

    @Test
    void clientCertificatesAreRequiredWhenConfigured() throws Exception {
        TestCertificates.Issued client = ca.client("app");
        TestCertificates.PemFiles clientPem = client.writePem(dir, "client");
        Path derKey = client.writeDerKey(dir.resolve("client.pk8"));
        try (TestProxy proxy = TestProxy.start(tls("require", server, ", ca: " + caFile + ", client_auth: require"))) {
            assertThrows(SQLException.class, () -> proxy.connect("sslmode", "require").close());
            try (Connection c = proxy.connect("sslmode", "verify-full", "sslrootcert", caFile.toString(),
                    "sslcert", clientPem.cert().toString(), "sslkey", derKey.toString())) {
                assertTrue(c.isValid(5));
            }
        }
    }

    @Test
    void aRenewedCertificateIsServedWithoutRestart() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live"));
        TestCertificates.Issued firstCertificate = ca.server("localhost", "127.0.0.1");
        TestCertificates.PemFiles first = firstCertificate.writePem(live, "tls");
        try (TestProxy proxy = TestProxy.start(tls("allow", first, "") + TestProxy.metricsYaml());
             Connection before = proxy.connect("sslmode", "verify-full", "sslrootcert", caFile.toString())) {
            java.math.BigInteger old = served(proxy);
            assertEquals(firstCertificate.certificate().getNotAfter().getTime() / 1000.0,
                    proxy.metric("pgbalancer_tls_certificate_expiry_seconds"));
            TestCertificates.Issued renewed = ca.server("localhost", "127.0.0.1");
            renewed.writePem(live, "tls");
            Poll.until(Duration.ofSeconds(20), "the renewed certificate is served",
                    () -> served(proxy).equals(renewed.certificate().getSerialNumber()));
            assertNotEquals(old, renewed.certificate().getSerialNumber());
            assertEquals(renewed.certificate().getNotAfter().getTime() / 1000.0,
                    proxy.metric("pgbalancer_tls_certificate_expiry_seconds"));
            try (Statement st = before.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
                assertTrue(rs.next(), "a connection made before the renewal keeps working");
            }
        }
    }

    /** The serial number of the certificate the proxy presents to a new connection. */
    private static java.math.BigInteger served(TestProxy proxy) throws Exception {
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write(RawLogin.sslRequest());
            assertEquals('S', plain.getInputStream().read());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE.getTrustManagers(),
                    null);
            try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1",
                    proxy.port(), false)) {
                s.startHandshake();
                return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
            }
        }
    }

    @Test
    void tlsDisabledAnswersNAndPlaintextWorks() throws Exception {
        try (TestProxy proxy = TestProxy.start(2)) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                s.getOutputStream().write(RawLogin.sslRequest());
                assertEquals('N', s.getInputStream().read());
            }
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect("sslmode", "require").close());
            assertFalse(e.getMessage().isEmpty());
            try (Connection c = proxy.connect("sslmode", "prefer")) {
                assertTrue(c.isValid(5));
            }
        }
    }
}

// Tests TestCertificates: its certificates verify with the JDK's PKIX, carry their names, and work in a TLS handshake.
package io.pgbalancer.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.pgbalancer.testing.TestCertificates.Authority;
import io.pgbalancer.testing.TestCertificates.Issued;
import io.pgbalancer.testing.TestCertificates.PemFiles;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestCertificatesTest {
    /** Key generation is cheap with EC, but one CA for all tests is enough. */
    private static Authority ca;

    @TempDir
    Path dir;

    @BeforeAll
    static void createAuthority() {
        ca = TestCertificates.authority("pgbalancer test CA");
    }

    private static X509TrustManager trusting(X509Certificate root) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("ca", root);
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        return (X509TrustManager) factory.getTrustManagers()[0];
    }

    /** The names as (type, value): type 2 is a DNS name, 7 an IP address. */
    private static Set<String> subjectAlternativeNames(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().map(n -> n.get(0) + " " + n.get(1))
                .collect(Collectors.toSet());
    }

    @Test
    void theAuthorityIsASelfSignedCa() throws Exception {
        X509Certificate root = ca.certificate();
        assertEquals("CN=pgbalancer test CA", root.getSubjectX500Principal().getName());
        assertEquals(root.getSubjectX500Principal(), root.getIssuerX500Principal());
        assertTrue(root.getBasicConstraints() >= 0, "a CA");
        root.verify(root.getPublicKey());
        root.checkValidity();
    }

    @Test
    void aServerCertificateVerifiesAgainstItsAuthorityAndNoOther() throws Exception {
        X509Certificate server = ca.server("localhost", "127.0.0.1", "::1", "pg.example").certificate();
        assertEquals("CN=localhost", server.getSubjectX500Principal().getName());
        assertEquals(-1, server.getBasicConstraints(), "not a CA");
        server.checkValidity();
        assertDoesNotThrow(() -> trusting(ca.certificate()).checkServerTrusted(new X509Certificate[] {server},
                "ECDHE_ECDSA"));
        X509TrustManager other = trusting(TestCertificates.authority("another CA").certificate());
        assertThrows(CertificateException.class, () -> other.checkServerTrusted(new X509Certificate[] {server},
                "ECDHE_ECDSA"));
    }

    @Test
    void namesThatAreAddressesBecomeIpNames() throws Exception {
        X509Certificate server = ca.server("localhost", "127.0.0.1", "::1", "pg.example").certificate();
        assertEquals(Set.of("2 localhost", "7 127.0.0.1", "7 0:0:0:0:0:0:0:1", "2 pg.example"),
                subjectAlternativeNames(server));
        assertTrue(server.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "serverAuth");
    }

    @Test
    void issueTakesEverythingExplicitly() throws Exception {
        java.time.Instant from = java.time.Instant.parse("2024-01-01T00:00:00Z");
        java.time.Instant to = java.time.Instant.parse("2044-01-01T00:00:00Z");
        X509Certificate certificate = ca.issue("db", List.of("db.internal"), List.of("10.0.0.7"), from, to)
                .certificate();
        assertEquals(Set.of("2 db.internal", "7 10.0.0.7"), subjectAlternativeNames(certificate));
        assertEquals(from, certificate.getNotBefore().toInstant());
        assertEquals(to, certificate.getNotAfter().toInstant());
        assertThrows(IllegalArgumentException.class,
                () -> ca.issue("db", List.of(), List.of("db.internal"), from, to));
    }

    @Test
    void aClientCertificateCarriesItsUserAsCnAndNoNames() throws Exception {
        X509Certificate client = ca.client("app").certificate();
        assertEquals("CN=app", client.getSubjectX500Principal().getName());
        assertNull(client.getSubjectAlternativeNames());
        assertTrue(client.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "clientAuth");
        assertDoesNotThrow(() -> trusting(ca.certificate()).checkClientTrusted(new X509Certificate[] {client},
                "EC"));
    }

    @Test
    void anExpiredCertificateFailsItsValidityCheck() throws Exception {
        X509Certificate expired = ca.expired("localhost").certificate();
        assertThrows(CertificateExpiredException.class, expired::checkValidity);
        assertThrows(CertificateException.class, () -> trusting(ca.certificate()).checkServerTrusted(
                new X509Certificate[] {expired}, "ECDHE_ECDSA"));
    }

    @Test
    void pemFilesReadBackAndTheKeyIsOnlyForItsOwner() throws Exception {
        Issued server = ca.server("localhost");
        PemFiles files = server.writePem(dir, "server");
        assertEquals(dir.resolve("server.crt"), files.cert());
        assertEquals(dir.resolve("server.key"), files.key());
        assertTrue(Files.readString(files.cert()).startsWith("-----BEGIN CERTIFICATE-----\n"));
        assertTrue(Files.readString(files.key()).startsWith("-----BEGIN PRIVATE KEY-----\n"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.key())));
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        assertEquals(server.certificate(), x509.generateCertificate(new ByteArrayInputStream(
                Files.readAllBytes(files.cert()))));
        Path caFile = ca.writePem(dir.resolve("ca.crt"));
        assertEquals(ca.certificate(), x509.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(caFile))));

        Path der = server.writeDerKey(dir.resolve("server.pk8"));
        PrivateKey read = KeyFactory.getInstance("EC")
                .generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(der)));
        assertArrayEquals(server.privateKey().getEncoded(), read.getEncoded());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(der)));
    }

    @Test
    void nettyAcceptsThePemFiles() throws Exception {
        PemFiles server = ca.server("localhost", "127.0.0.1").writePem(dir, "server");
        Path caFile = ca.writePem(dir.resolve("ca.crt"));
        assertDoesNotThrow(() -> SslContextBuilder.forServer(server.cert().toFile(), server.key().toFile()).build());
        assertDoesNotThrow(() -> SslContextBuilder.forServer(server.cert().toFile(), server.key().toFile())
                .trustManager(caFile.toFile()).clientAuth(ClientAuth.REQUIRE).build());
    }

    @Test
    void aMutualTlsHandshakeSucceedsForANameTheServerHas() throws Exception {
        PemFiles server = ca.server("localhost", "127.0.0.1").writePem(dir, "server");
        PemFiles client = ca.client("app").writePem(dir, "client");
        Path caFile = ca.writePem(dir.resolve("ca.crt"));
        SslContext serverContext = SslContextBuilder.forServer(server.cert().toFile(), server.key().toFile())
                .trustManager(caFile.toFile()).clientAuth(ClientAuth.REQUIRE).build();
        SslContext clientContext = SslContextBuilder.forClient().trustManager(caFile.toFile())
                .keyManager(client.cert().toFile(), client.key().toFile()).build();

        for (String host : List.of("localhost", "127.0.0.1")) {
            SSLEngine serverEngine = serverContext.newEngine(ByteBufAllocator.DEFAULT);
            handshake(clientEngine(clientContext, host), serverEngine);
            X509Certificate peer = (X509Certificate) serverEngine.getSession().getPeerCertificates()[0];
            assertEquals("CN=app", peer.getSubjectX500Principal().getName());
        }
        SSLException wrongName = assertThrows(SSLException.class, () -> handshake(clientEngine(clientContext,
                "pg.example"), serverContext.newEngine(ByteBufAllocator.DEFAULT)));
        assertTrue(causes(wrongName).contains("No subject alternative DNS name matching pg.example found."),
                causes(wrongName));
    }

    @Test
    void aHandshakeWithAnExpiredServerCertificateFails() throws Exception {
        PemFiles server = ca.expired("localhost").writePem(dir, "server");
        Path caFile = ca.writePem(dir.resolve("ca.crt"));
        SslContext serverContext = SslContextBuilder.forServer(server.cert().toFile(), server.key().toFile()).build();
        SslContext clientContext = SslContextBuilder.forClient().trustManager(caFile.toFile()).build();
        SSLException e = assertThrows(SSLException.class, () -> handshake(clientEngine(clientContext, "localhost"),
                serverContext.newEngine(ByteBufAllocator.DEFAULT)));
        assertTrue(causes(e).contains(CertificateExpiredException.class.getName()), causes(e));
    }

    /** Every exception in the cause chain as "class: message", one a line. */
    private static String causes(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            out.append(t).append('\n');
        }
        return out.toString();
    }

    /** A client engine that checks the server's certificate names {@code host}, as verify-full does. */
    private static SSLEngine clientEngine(SslContext context, String host) {
        SSLEngine engine = context.newEngine(ByteBufAllocator.DEFAULT, host, 5432);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(parameters);
        return engine;
    }

    /** Runs a handshake between two engines in memory; throws what either engine throws. */
    private static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
        ByteBuffer empty = ByteBuffer.allocate(0);
        ByteBuffer toServer = ByteBuffer.allocate(64 * 1024);
        ByteBuffer toClient = ByteBuffer.allocate(64 * 1024);
        ByteBuffer application = ByteBuffer.allocate(64 * 1024);
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < 100; round++) {
            if (idle(client) && idle(server)) {
                return;
            }
            runTasks(client, client.wrap(empty, toServer));
            runTasks(server, server.wrap(empty, toClient));
            toServer.flip();
            toClient.flip();
            runTasks(client, client.unwrap(toClient, application.clear()));
            runTasks(server, server.unwrap(toServer, application.clear()));
            toServer.compact();
            toClient.compact();
        }
        throw new AssertionError("the handshake did not finish");
    }

    private static boolean idle(SSLEngine engine) {
        return engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    private static void runTasks(SSLEngine engine, SSLEngineResult result) {
        if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) {
                task.run();
            }
        }
    }
}

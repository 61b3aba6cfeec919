// purpose: PEM keys in every common encoding load, mismatched or unusable files are clear errors that change nothing,
// and backend_tls modes decide verification as libpq does.
package io.pgbalancer.tls;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.BackendTls;
import io.pgbalancer.config.BackendTlsMode;
import io.pgbalancer.config.ClientAuth;
import io.pgbalancer.config.Tls;
import io.pgbalancer.config.TlsMode;
import io.pgbalancer.testing.TestCertificates;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsFilesTest {
    @TempDir
    Path dir;

    private final TestCertificates.Authority ca = TestCertificates.authority("unit CA");

    @Test
    void pkcs8AndTraditionalKeysLoad() throws Exception {
        TestCertificates.PemFiles pem = ca.server("localhost").writePem(dir, "pkcs8");
        assertNotNull(PemFiles.privateKey(pem.key(), "tls.key"));
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair pair = rsa.generateKeyPair();
        Path pkcs1 = dir.resolve("rsa.key");
        Files.writeString(pkcs1, pem(pair)); // "BEGIN RSA PRIVATE KEY", as cert-manager writes by default
        assertTrue(Files.readString(pkcs1).contains("BEGIN RSA PRIVATE KEY"));
        PrivateKey loaded = PemFiles.privateKey(pkcs1, "tls.key");
        assertTrue(java.util.Arrays.equals(pair.getPrivate().getEncoded(), loaded.getEncoded()));
    }

    private static String pem(KeyPair pair) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(pair);
        }
        return out.toString();
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedNamingBothFiles() {
        TestCertificates.PemFiles one = ca.server("localhost").writePem(dir, "one");
        TestCertificates.PemFiles two = ca.server("localhost").writePem(dir, "two");
        TlsSetupException e = assertThrows(TlsSetupException.class, () -> ClientTls.load(
                new Tls(TlsMode.REQUIRE, one.cert(), two.key(), null, ClientAuth.NONE)));
        assertTrue(e.getMessage().contains(two.key().toString()) && e.getMessage().contains(one.cert().toString())
                && e.getMessage().contains("does not belong to"), e.getMessage());
    }

    @Test
    void filesWithoutTheExpectedPemBlocksAreClearErrors() throws Exception {
        Path notAKey = Files.writeString(dir.resolve("cert-as-key.pem"),
                Files.readString(ca.server("localhost").writePem(dir, "x").cert()));
        TlsSetupException e = assertThrows(TlsSetupException.class, () -> PemFiles.privateKey(notAKey, "tls.key"));
        assertTrue(e.getMessage().contains("holds no private key"), e.getMessage());
        Path keyAsCert = ca.server("localhost").writePem(dir, "y").key();
        e = assertThrows(TlsSetupException.class, () -> PemFiles.certificates(keyAsCert, "tls.cert"));
        assertTrue(e.getMessage().contains("tls.cert " + keyAsCert), e.getMessage());
    }

    @Test
    void aReloadWithUnusableFilesKeepsTheRunningCertificate() {
        TestCertificates.PemFiles good = ca.server("localhost").writePem(dir, "good");
        TestCertificates.PemFiles other = ca.server("localhost").writePem(dir, "other");
        ClientTls tls = new ClientTls(new Tls(TlsMode.ALLOW, good.cert(), good.key(), null, ClientAuth.NONE));
        TlsMaterial before = tls.current();
        assertNotNull(before.endPoint(), "an ECDSA-SHA256 certificate has channel binding data");
        assertThrows(TlsSetupException.class,
                () -> tls.apply(new Tls(TlsMode.REQUIRE, good.cert(), other.key(), null, ClientAuth.NONE)));
        assertSame(before, tls.current());
        assertSame(TlsMode.ALLOW, tls.mode());
        tls.apply(Tls.disabled());
        assertNull(tls.current());
        tls.close();
    }

    @Test
    void backendModesVerifyAsLibpqDoes() {
        Path caFile = ca.writePem(dir.resolve("ca.crt"));
        assertFalse(BackendTlsContext.verifiesChain(new BackendTls(BackendTlsMode.PREFER, caFile, null, null)));
        assertFalse(BackendTlsContext.verifiesChain(new BackendTls(BackendTlsMode.REQUIRE, null, null, null)));
        assertTrue(BackendTlsContext.verifiesChain(new BackendTls(BackendTlsMode.REQUIRE, caFile, null, null)));
        assertTrue(BackendTlsContext.verifiesChain(new BackendTls(BackendTlsMode.VERIFY_CA, caFile, null, null)));
        BackendTlsContext disabled = BackendTlsContext.of(new BackendTls(BackendTlsMode.DISABLE, null, null, null));
        assertFalse(disabled.requests());
        BackendTlsContext prefer = BackendTlsContext.of(BackendTls.defaults());
        assertTrue(prefer.requests() && prefer.plaintextAllowed());
        BackendTlsContext full = BackendTlsContext.of(new BackendTls(BackendTlsMode.VERIFY_FULL, caFile, null, null));
        assertTrue(full.requests() && !full.plaintextAllowed());
    }
}

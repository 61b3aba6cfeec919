// purpose: tests the "tls" and "backend_tls" sections: defaults, every mode, each rule's place, the file checks
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.located;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TlsConfigTest {
    /** The config module does not parse PEM: any text with a PEM header will do. */
    private static final String PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private static final String TLS_KEYS = "mode, cert, key, ca, client_auth";
    private static final String BACKEND_TLS_KEYS = "mode, ca, cert, key";

    @TempDir
    Path dir;
    private Path cert;
    private Path key;
    private Path ca;

    @BeforeEach
    void writeFiles() throws IOException {
        cert = pem("server.crt");
        key = pem("server.key");
        ca = pem("ca.crt");
    }

    private Path pem(String name) throws IOException {
        return Files.writeString(dir.resolve(name), PEM);
    }

    /** MINIMAL takes lines 1 to 3: a section appended to it starts on line 4, its keys on line 5, column 3. */
    private static String withSection(String name, String keys) {
        return MINIMAL + name + ":\n" + keys.indent(2);
    }

    private static PgBalancerConfig parseTls(String keys) throws ConfigException {
        return parse(withSection("tls", keys));
    }

    private static PgBalancerConfig parseBackendTls(String keys) throws ConfigException {
        return parse(withSection("backend_tls", keys));
    }

    // --- defaults ---

    @Test
    void withoutTheSectionsClientTlsIsOffAndServersArePreferred() throws ConfigException {
        PgBalancerConfig config = parse(MINIMAL);
        assertEquals(Tls.disabled(), config.tls());
        assertEquals(new Tls(TlsMode.DISABLE, null, null, null, ClientAuth.NONE), config.tls());
        assertFalse(config.tls().enabled());
        assertEquals(BackendTls.defaults(), config.backendTls());
        assertEquals(new BackendTls(BackendTlsMode.PREFER, null, null, null), config.backendTls());
        assertFalse(config.summary().contains("tls"), config.summary());
    }

    @Test
    void aTlsSectionWithoutModeAllowsTls() throws ConfigException {
        PgBalancerConfig config = parseTls("cert: " + cert + "\nkey: " + key);
        assertEquals(new Tls(TlsMode.ALLOW, cert, key, null, ClientAuth.NONE), config.tls());
        assertTrue(config.tls().enabled());
        assertEquals(BackendTls.defaults(), config.backendTls(), "backend_tls is its own section");
    }

    @Test
    void anEmptyBackendTlsSectionIsTheDefaults() throws ConfigException {
        assertEquals(BackendTls.defaults(), parse(MINIMAL + "backend_tls:\n").backendTls());
        assertEquals(BackendTls.defaults(), parse(MINIMAL + "backend_tls: {}\n").backendTls());
    }

    @Test
    void theConstructorsWithoutTlsHaveTheDefaults() throws ConfigException {
        PgBalancerConfig parsed = parse(MINIMAL);
        PgBalancerConfig withDiscovery = new PgBalancerConfig(parsed.listen(), parsed.pool(), parsed.auth(),
                parsed.backends(), parsed.limits(), parsed.shutdown(), parsed.routing(), parsed.http(),
                parsed.monitor(), parsed.admin(), parsed.discovery(), parsed.warnings());
        assertEquals(parsed, withDiscovery);
        PgBalancerConfig withTls = new PgBalancerConfig(parsed.listen(), parsed.pool(), parsed.auth(),
                parsed.backends(), parsed.limits(), parsed.shutdown(), parsed.routing(), parsed.http(),
                parsed.monitor(), parsed.admin(), parsed.discovery(), new Tls(TlsMode.REQUIRE, cert, key, null, ClientAuth.NONE),
                BackendTls.defaults(), parsed.warnings());
        assertEquals(parsed.summary().replace("listen 127.0.0.1:6432,", "listen 127.0.0.1:6432, tls require,"),
                withTls.summary());
    }

    // --- every valid mode ---

    @ParameterizedTest
    @EnumSource(TlsMode.class)
    void everyTlsMode(TlsMode mode) throws ConfigException {
        PgBalancerConfig config = parseTls("mode: " + mode.yamlName() + "\ncert: " + cert + "\nkey: " + key);
        assertEquals(new Tls(mode, cert, key, null, ClientAuth.NONE), config.tls());
        assertEquals(mode != TlsMode.DISABLE, config.tls().enabled());
        assertEquals(mode != TlsMode.DISABLE, config.summary().contains(", tls " + mode.yamlName() + ","),
                config.summary());
    }

    @Test
    void disableNeedsNoFiles() throws ConfigException {
        assertEquals(Tls.disabled(), parseTls("mode: disable").tls());
    }

    @ParameterizedTest
    @EnumSource(ClientAuth.class)
    void everyClientAuth(ClientAuth clientAuth) throws ConfigException {
        PgBalancerConfig config = parseTls("mode: require\ncert: " + cert + "\nkey: " + key + "\nca: " + ca
                + "\nclient_auth: " + clientAuth.yamlName());
        assertEquals(new Tls(TlsMode.REQUIRE, cert, key, ca, clientAuth), config.tls());
    }

    @ParameterizedTest
    @EnumSource(value = BackendTlsMode.class, names = {"DISABLE", "PREFER", "REQUIRE"})
    void backendModesThatDoNotVerifyNeedNoFiles(BackendTlsMode mode) throws ConfigException {
        assertEquals(new BackendTls(mode, null, null, null), parseBackendTls("mode: " + mode.yamlName()).backendTls());
    }

    @ParameterizedTest
    @EnumSource(BackendTlsMode.class)
    void everyBackendModeWithEveryFile(BackendTlsMode mode) throws ConfigException {
        PgBalancerConfig config = parseBackendTls("mode: " + mode.yamlName() + "\nca: " + ca + "\ncert: " + cert
                + "\nkey: " + key);
        assertEquals(new BackendTls(mode, ca, cert, key), config.backendTls());
        assertEquals(Tls.disabled(), config.tls(), "tls is its own section");
    }

    @Test
    void backendModesSayWhatTheyVerify() {
        assertEquals(List.of("disable", "prefer", "require", "verify-ca", "verify-full"),
                List.of(BackendTlsMode.values()).stream().map(BackendTlsMode::yamlName).toList());
        assertEquals(List.of(false, false, false, true, true),
                List.of(BackendTlsMode.values()).stream().map(BackendTlsMode::verifiesCa).toList());
        assertEquals(List.of(false, false, false, false, true),
                List.of(BackendTlsMode.values()).stream().map(BackendTlsMode::verifiesHost).toList());
        assertEquals(List.of("disable", "allow", "require"),
                List.of(TlsMode.values()).stream().map(TlsMode::yamlName).toList());
        assertEquals(List.of("none", "optional", "require"),
                List.of(ClientAuth.values()).stream().map(ClientAuth::yamlName).toList());
    }

    @Test
    void aNullFileIsNotGiven() throws ConfigException {
        assertEquals(new Tls(TlsMode.ALLOW, cert, key, null, ClientAuth.NONE),
                parseTls("cert: " + cert + "\nkey: " + key + "\nca:").tls());
        assertEquals(BackendTls.defaults(), parseBackendTls("ca: null").backendTls());
    }

    @Test
    void pathsMayComeFromTheEnvironment() throws ConfigException {
        PgBalancerConfig config = parse(withSection("tls", "cert: ${CERT}\nkey: ${KEY_DIR}/server.key"),
                Map.of("CERT", cert.toString(), "KEY_DIR", dir.toString()));
        assertEquals(cert, config.tls().cert());
        assertEquals(key, config.tls().key());
    }

    // --- the rules, each at its place ---

    @Test
    void enabledTlsNeedsCertAndKey() {
        assertEquals(List.of("5:3: tls.cert: required when mode is require",
                        "5:3: tls.key: required when mode is require"),
                located(withSection("tls", "mode: require")));
        assertEquals(List.of("5:3: tls.key: required when mode is allow"),
                located(withSection("tls", "mode: allow\ncert: " + cert)));
        assertEquals(List.of("5:3: tls.cert: required when mode is require"),
                located(withSection("tls", "mode: require\nkey: " + key)));
    }

    @Test
    void aPresentTlsSectionDefaultsToAllowAndSoNeedsCertAndKey() {
        String allow = "required when mode is allow (the default when tls is present)";
        assertEquals(List.of("4:6: tls.cert: " + allow, "4:6: tls.key: " + allow), located(MINIMAL + "tls: {}\n"));
        assertEquals(List.of("4:6: tls.key: " + allow), located(MINIMAL + "tls: {cert: " + cert + "}\n"));
        assertEquals(2, located(MINIMAL + "tls:\n").size());
        assertTrue(located(MINIMAL + "tls:\n").get(0).endsWith(": tls.cert: " + allow));
    }

    @Test
    void aCertificateAndItsKeyComeTogetherEvenWithTlsDisabled() {
        assertEquals(List.of("5:3: tls.key: required when cert is set (the certificate's private key)"),
                located(withSection("tls", "mode: disable\ncert: " + cert)));
        assertEquals(List.of("5:3: tls.cert: required when key is set (the certificate of the private key)"),
                located(withSection("tls", "mode: disable\nkey: " + key)));
        assertEquals(List.of("5:3: backend_tls.key: required when cert is set (the certificate's private key)"),
                located(withSection("backend_tls", "cert: " + cert)));
        assertEquals(List.of("5:3: backend_tls.cert: required when key is set (the certificate of the private key)"),
                located(withSection("backend_tls", "mode: verify-full\nca: " + ca + "\nkey: " + key)));
    }

    @Test
    void clientCertificatesNeedACa() {
        assertEquals(List.of("5:3: tls.ca: required when client_auth is optional (the CA that client certificates"
                        + " must chain to)"),
                located(withSection("tls", "cert: " + cert + "\nkey: " + key + "\nclient_auth: optional")));
        assertEquals(List.of("5:3: tls.ca: required when client_auth is require (the CA that client certificates"
                        + " must chain to)"),
                located(withSection("tls", "cert: " + cert + "\nkey: " + key + "\nclient_auth: require\nca:")));
    }

    @ParameterizedTest
    @EnumSource(value = BackendTlsMode.class, names = {"VERIFY_CA", "VERIFY_FULL"})
    void verifyingServersNeedsACa(BackendTlsMode mode) {
        assertEquals(List.of("5:3: backend_tls.ca: required when mode is " + mode.yamlName()
                        + " (the CA that the servers' certificates must chain to)"),
                located(withSection("backend_tls", "mode: " + mode.yamlName())));
        assertEquals(List.of("4:14: backend_tls.ca: required when mode is " + mode.yamlName()
                        + " (the CA that the servers' certificates must chain to)"),
                located(MINIMAL + "backend_tls: {mode: " + mode.yamlName() + "}\n"));
    }

    @Test
    void unknownModesNameTheKnownOnesAndNeedNothingMore() {
        assertEquals(List.of("5:9: tls.mode: expected one of disable, allow, require, got \"verify-full\""),
                located(withSection("tls", "mode: verify-full")));
        assertEquals(List.of("6:16: tls.client_auth: expected one of none, optional, require, got \"maybe\""),
                located(withSection("tls", "mode: disable\nclient_auth: maybe")));
        assertEquals(List.of("5:9: backend_tls.mode: expected one of disable, prefer, require, verify-ca,"
                        + " verify-full, got \"allow\""),
                located(withSection("backend_tls", "mode: allow")));
    }

    @Test
    void unknownKeysAndOtherShapesAreRejected() {
        assertEquals(List.of("5:3: tls.certificate: unknown key (expected one of: " + TLS_KEYS + ")"),
                located(withSection("tls", "certificate: x\nmode: disable")));
        assertEquals(List.of("5:3: backend_tls.sslmode: unknown key (expected one of: " + BACKEND_TLS_KEYS + ")"),
                located(withSection("backend_tls", "sslmode: require")));
        assertEquals(List.of("4:6: tls: expected a mapping, got \"require\""), located(MINIMAL + "tls: require\n"));
        assertEquals(List.of("4:14: backend_tls: expected a mapping, got a list"),
                located(MINIMAL + "backend_tls: [verify-full]\n"));
        assertEquals(List.of("6:9: tls.cert: expected a file path, got a list"),
                located(withSection("tls", "mode: disable\ncert: [a]\nkey: " + key)));
        assertEquals(List.of("5:3: tls.key: required when cert is set (the certificate's private key)",
                        "6:9: tls.cert: expected a file path, got \"\""),
                located(withSection("tls", "mode: disable\ncert: ''")));
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        List<String> problems = located(MINIMAL + "tls:\n  mode: require\n  client_auth: require\n"
                + "backend_tls:\n  mode: verify-ca\n  cert: " + dir.resolve("missing.crt") + "\n  key: " + key + "\n");
        assertEquals(List.of("5:3: tls.cert: required when mode is require",
                "5:3: tls.key: required when mode is require",
                "5:3: tls.ca: required when client_auth is require (the CA that client certificates must chain to)",
                "8:3: backend_tls.ca: required when mode is verify-ca (the CA that the servers' certificates must"
                        + " chain to)",
                "9:9: backend_tls.cert: file not found: " + dir.resolve("missing.crt")), problems);
    }

    // --- the files ---

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nowhere/server.crt");
        assertEquals(List.of("6:9: tls.cert: file not found: " + missing),
                located(withSection("tls", "mode: require\ncert: " + missing + "\nkey: " + key)));
        assertEquals(List.of("5:7: backend_tls.ca: file not found: " + missing),
                located(withSection("backend_tls", "ca: " + missing)));
    }

    @Test
    void aDirectoryIsNotAFile() {
        assertEquals(List.of("5:7: backend_tls.ca: expected a regular file, got a directory: " + dir),
                located(withSection("backend_tls", "ca: " + dir)));
    }

    @Test
    void anUnreadableFileIsNamed() throws IOException {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(key), "root reads every file");
        assertEquals(List.of("7:8: tls.key: not readable: " + key + " (permission denied)"),
                located(withSection("tls", "mode: require\ncert: " + cert + "\nkey: " + key)));
    }

    @Test
    void aFileThatIsNotPemIsRejected() throws IOException {
        Path der = Files.write(dir.resolve("server.der"), new byte[] {0x30, (byte) 0x82, 0x01, 0x0a, 0x02, 0x01});
        Path garbage = Files.writeString(dir.resolve("notes.txt"), "BEGIN CERTIFICATE, or so they say\n");
        Path empty = Files.createFile(dir.resolve("empty.key"));
        assertEquals(List.of(
                        "5:9: tls.cert: expected a PEM file (-----BEGIN ...), got " + der + " (no -----BEGIN line)",
                        "6:8: tls.key: expected a PEM file (-----BEGIN ...), got " + empty + " (no -----BEGIN line)",
                        "7:7: tls.ca: expected a PEM file (-----BEGIN ...), got " + garbage + " (no -----BEGIN line)"),
                located(withSection("tls", "cert: " + der + "\nkey: " + empty + "\nca: " + garbage)));
    }

    @Test
    void pemAfterAPreambleIsFine() throws ConfigException, IOException {
        Path bundle = Files.writeString(dir.resolve("bundle.crt"), "Subject: CN=Root\nIssuer: CN=Root\n" + PEM + PEM);
        assertEquals(bundle, parseBackendTls("mode: verify-full\nca: " + bundle).backendTls().ca());
    }

    // --- relative paths ---

    @Test
    void relativePathsOfALoadedFileAreRelativeToItsDirectory() throws IOException, ConfigException {
        Path certs = Files.createDirectories(dir.resolve("etc/certs"));
        Files.move(cert, certs.resolve("server.crt"));
        Files.move(key, certs.resolve("server.key"));
        Path file = Files.writeString(dir.resolve("etc/pgbalancer.yaml"), withSection("tls",
                "mode: require\ncert: certs/server.crt\nkey: ./certs/server.key")
                + "backend_tls:\n  mode: verify-ca\n  ca: ../ca.crt\n");
        PgBalancerConfig config = ConfigLoader.load(file, Map.of());
        Path etc = dir.resolve("etc");
        assertEquals(etc.resolve("certs/server.crt"), config.tls().cert());
        assertEquals(etc.resolve("./certs/server.key"), config.tls().key());
        assertEquals(etc.resolve("../ca.crt"), config.backendTls().ca());
        assertTrue(Files.isSameFile(ca, config.backendTls().ca()));
    }

    @Test
    void aMissingRelativeFileIsNamedWithItsDirectory() throws IOException {
        Path file = Files.writeString(dir.resolve("pgbalancer.yaml"), withSection("backend_tls", "ca: root.crt"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(List.of(new ConfigProblem("backend_tls.ca", "file not found: " + dir.resolve("root.crt"))),
                e.problems());
        assertTrue(e.report().contains(file + ":5:7: backend_tls.ca: file not found: "), e.report());
    }

    @Test
    void relativePathsOfParsedTextAreRelativeToTheWorkingDirectory() throws ConfigException {
        Path workingDirectory = Path.of("").toAbsolutePath();
        Path relative = workingDirectory.relativize(ca);
        assertFalse(relative.isAbsolute());
        assertEquals(workingDirectory.resolve(relative), parseBackendTls("ca: " + relative).backendTls().ca());
        assertEquals(List.of("5:7: backend_tls.ca: file not found: " + workingDirectory.resolve("no-such-root.crt")),
                located(withSection("backend_tls", "ca: no-such-root.crt")));
    }
}

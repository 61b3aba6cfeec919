// Test helper: a throwaway certificate authority that issues server and client certificates and writes them as PEM.
package io.pgbalancer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * Certificates for TLS tests, with EC P-256 keys (fast to generate, accepted by the JDK, Netty, OpenSSL and so
 * PostgreSQL). Only BouncyCastle's certificate builder is used; no security provider is installed.
 *
 * <pre>{@code
 * Authority ca = TestCertificates.authority("test CA");
 * PemFiles server = ca.server("localhost", "127.0.0.1").writePem(dir, "server"); // server.crt, server.key (0600)
 * Path caFile = ca.writePem(dir.resolve("ca.crt"));
 * }</pre>
 */
public final class TestCertificates {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SIGNATURE = "SHA256withECDSA";

    private TestCertificates() {
    }

    /** A self-signed CA named {@code CN=<cn>}, valid from an hour ago for ten years. */
    public static Authority authority(String cn) {
        KeyPair keys = keyPair();
        Instant now = Instant.now();
        X500Name name = name(cn);
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), name,
                    keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()));
            return new Authority(sign(builder, keys.getPrivate()), keys.getPrivate(), name);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create a test CA", e);
        }
    }

    /** A certificate authority: it issues certificates signed by its key. */
    public static final class Authority {
        private final X509Certificate certificate;
        private final PrivateKey privateKey;
        private final X500Name name;

        private Authority(X509Certificate certificate, PrivateKey privateKey, X500Name name) {
            this.certificate = certificate;
            this.privateKey = privateKey;
            this.name = name;
        }

        public X509Certificate certificate() {
            return certificate;
        }

        public PrivateKey privateKey() {
            return privateKey;
        }

        /**
         * A certificate for {@code CN=<cn>} with the given DNS and IP subject alternative names (either list may be
         * empty), usable for TLS servers and clients alike (extended key usage serverAuth and clientAuth).
         */
        public Issued issue(String cn, List<String> dnsNames, List<String> ipAddresses, Instant notBefore,
                            Instant notAfter) {
            KeyPair keys = keyPair();
            List<GeneralName> names = new ArrayList<>();
            dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
            ipAddresses.forEach(ip -> {
                if (!IPAddress.isValid(ip)) {
                    throw new IllegalArgumentException("not an IP address: " + ip);
                }
                names.add(new GeneralName(GeneralName.iPAddress, ip));
            });
            try {
                JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
                X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                        Date.from(notBefore), Date.from(notAfter), name(cn), keys.getPublic())
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                                KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                extensions.createSubjectKeyIdentifier(keys.getPublic()))
                        .addExtension(Extension.authorityKeyIdentifier, false,
                                extensions.createAuthorityKeyIdentifier(certificate));
                if (!names.isEmpty()) {
                    builder.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(GeneralName[]::new)));
                }
                return new Issued(sign(builder, privateKey), keys.getPrivate());
            } catch (GeneralSecurityException | CertIOException e) {
                throw new IllegalStateException("cannot issue a test certificate for " + cn, e);
            }
        }

        /**
         * A server certificate valid from an hour ago for a day, named by the first of {@code namesAndIps}, which
         * all become subject alternative names: IP addresses (127.0.0.1, ::1) as IP names, the rest as DNS names.
         */
        public Issued server(String... namesAndIps) {
            Instant now = Instant.now();
            return withNames(namesAndIps, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
        }

        /** A client certificate for {@code CN=<cn>} (PostgreSQL's cert authentication maps the CN to the user). */
        public Issued client(String cn) {
            Instant now = Instant.now();
            return issue(cn, List.of(), List.of(), now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
        }

        /** Like {@link #server}, but it expired a day ago (valid for the day before). */
        public Issued expired(String... namesAndIps) {
            Instant now = Instant.now();
            return withNames(namesAndIps, now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
        }

        /** Writes the CA certificate as PEM to {@code file} (what a ca, root.crt or sslrootcert setting names). */
        public Path writePem(Path file) {
            return write(file, pem("CERTIFICATE", encoded(certificate)));
        }

        private Issued withNames(String[] namesAndIps, Instant notBefore, Instant notAfter) {
            if (namesAndIps.length == 0) {
                throw new IllegalArgumentException("a server certificate needs at least one name or address");
            }
            List<String> dns = new ArrayList<>();
            List<String> ips = new ArrayList<>();
            for (String n : namesAndIps) {
                (IPAddress.isValid(n) ? ips : dns).add(n);
            }
            return issue(namesAndIps[0], dns, ips, notBefore, notAfter);
        }
    }

    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, PrivateKey privateKey) {
        public Issued {
            Objects.requireNonNull(certificate, "certificate");
            Objects.requireNonNull(privateKey, "privateKey");
        }

        /**
         * Writes {@code <baseName>.crt} (the certificate, without its CA) and {@code <baseName>.key} (the key as
         * PKCS#8 PEM, mode 0600: PostgreSQL refuses a key that others may read) into {@code dir}.
         */
        public PemFiles writePem(Path dir, String baseName) {
            Path cert = write(dir.resolve(baseName + ".crt"), pem("CERTIFICATE", encoded(certificate)));
            return new PemFiles(cert, writeKey(dir.resolve(baseName + ".key"),
                    pem("PRIVATE KEY", privateKey.getEncoded())));
        }

        /** Writes the key as PKCS#8 DER (mode 0600), the form pgjdbc's sslkey reads (it does not read PEM keys). */
        public Path writeDerKey(Path file) {
            return writeKey(file, privateKey.getEncoded());
        }
    }

    /** The files {@link Issued#writePem} wrote. */
    public record PemFiles(Path cert, Path key) {
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an EC P-256 key", e);
        }
    }

    private static X500Name name(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    }

    /** Positive and random, so two runs never issue the same issuer and serial. */
    private static BigInteger serial() {
        return new BigInteger(63, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static byte[] encoded(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] pem(String type, byte[] der) {
        String base64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return ("-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static Path write(Path file, byte[] content) {
        try {
            return Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path writeKey(Path file, byte[] content) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

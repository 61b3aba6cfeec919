// Reads PEM certificates and private keys (PKCS#8, PKCS#1 RSA, SEC1 EC) with BouncyCastle, naming the file on errors.
package io.pgbalancer.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

public final class PemFiles {
    private PemFiles() {
    }

    /** Every certificate in the file, in order (a chain: the leaf first). */
    public static List<X509Certificate> certificates(Path file, String what) {
        try (var in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new TlsSetupException(what + " " + file + " holds no certificate (expected PEM"
                        + " '-----BEGIN CERTIFICATE-----' blocks)", null);
            }
            return out;
        } catch (IOException | CertificateException e) {
            throw new TlsSetupException(what + " " + file + ": cannot read certificates: " + e.getMessage()
                    + " (expected PEM '-----BEGIN CERTIFICATE-----' blocks)", e);
        }
    }

    /** The first private key in the file: PKCS#8 ('BEGIN PRIVATE KEY'), PKCS#1 ('BEGIN RSA ...') or SEC1 EC. */
    public static PrivateKey privateKey(Path file, String what) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser pem = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate();
                }
                String type = o.getClass().getSimpleName();
                if (type.contains("Encrypted")) {
                    throw new TlsSetupException(what + " " + file + " is encrypted; pgbalancer needs an unencrypted"
                            + " key (openssl pkey -in KEY -out PLAIN)", null);
                }
            }
            throw new TlsSetupException(what + " " + file + " holds no private key (expected PEM '-----BEGIN"
                    + " PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN EC PRIVATE KEY-----')",
                    null);
        } catch (IOException e) {
            throw new TlsSetupException(what + " " + file + ": cannot read the private key: " + e.getMessage(), e);
        }
    }

    /** Fails unless {@code key} is the private half of the certificate's public key (a mismatched pair). */
    public static void checkPair(PrivateKey key, X509Certificate certificate, Path keyFile, Path certFile) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return; // nothing to test with; the handshake will tell
        }
        try {
            byte[] probe = "pgbalancer key check".getBytes(StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(probe);
            if (verify.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another type than the certificate's lands here too
        }
        throw new TlsSetupException("key " + keyFile + " does not belong to certificate " + certFile + " ("
                + certificate.getSubjectX500Principal().getName() + ")", null);
    }
}

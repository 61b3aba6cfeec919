// purpose: the tls-server-end-point channel binding data (RFC 5929 §4.1) of a certificate, for SCRAM-SHA-256-PLUS
package io.pgbalancer.protocol.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Locale;

public final class TlsServerEndPoint {
    /** The channel binding type name in the GS2 header ("p=tls-server-end-point"). */
    public static final String NAME = "tls-server-end-point";

    private TlsServerEndPoint() {
    }

    /**
     * The hash of the server certificate's DER encoding, with the hash of its signature algorithm, or SHA-256 when
     * that is MD5 or SHA-1 (as PostgreSQL and RFC 5929 do).
     *
     * @throws IllegalArgumentException when the signature algorithm names no hash (e.g. Ed25519), for which
     *     tls-server-end-point is undefined
     */
    public static byte[] of(X509Certificate certificate) {
        String digest = digestName(certificate.getSigAlgName());
        try {
            return MessageDigest.getInstance(digest).digest(certificate.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot hash the server certificate for channel binding: " + e, e);
        }
    }

    /** SHA256withRSA -> SHA-256; SHA1withRSA and MD5withRSA -> SHA-256; SHA384withECDSA -> SHA-384. */
    static String digestName(String signatureAlgorithm) {
        String name = signatureAlgorithm.toUpperCase(Locale.ROOT);
        int with = name.indexOf("WITH");
        if (with <= 0) {
            if (name.startsWith("RSASSA-PSS")) {
                // the hash is in the PSS parameters; PostgreSQL (OpenSSL) refuses these too
                throw new IllegalArgumentException("channel binding is not defined for " + signatureAlgorithm
                        + " certificates");
            }
            throw new IllegalArgumentException("channel binding is not defined for " + signatureAlgorithm
                    + " certificates (no hash algorithm)");
        }
        String hash = name.substring(0, with);
        return switch (hash) {
            case "MD5", "SHA1", "SHA-1", "SHA224", "SHA256" -> hash.equals("SHA224") ? "SHA-224" : "SHA-256";
            case "SHA384" -> "SHA-384";
            case "SHA512" -> "SHA-512";
            default -> throw new IllegalArgumentException("channel binding: unknown hash in " + signatureAlgorithm);
        };
    }
}

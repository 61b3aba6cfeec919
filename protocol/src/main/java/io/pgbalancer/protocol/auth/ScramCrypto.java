// purpose: the SCRAM-SHA-256 key derivations (RFC 5802 §3 / RFC 7677) on top of JDK crypto
package io.pgbalancer.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/** Shared by client and server so that both sides derive keys identically, which the interop tests rely on. */
final class ScramCrypto {
    static final String MECHANISM = "SCRAM-SHA-256";
    static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    static final int KEY_LENGTH = 32;
    /** Same raw nonce size as PostgreSQL and libpq (SCRAM_RAW_NONCE_LEN). */
    private static final int NONCE_BYTES = 18;
    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);
    /** SecureRandom is thread-safe; one instance avoids reseeding cost per login. */
    static final SecureRandom RANDOM = new SecureRandom();

    private ScramCrypto() {
    }

    /**
     * Hi(Normalize(password), salt, i). SunJCE's PBKDF2 turns the char[] into UTF-8, which is what
     * PostgreSQL hashes for a UTF-8 client.
     */
    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        char[] chars = SaslPrep.prepare(password).toCharArray();
        PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, KEY_LENGTH * 8);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks PBKDF2WithHmacSHA256", e);
        } finally {
            spec.clearPassword();
            Arrays.fill(chars, '\0');
        }
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks HmacSHA256", e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks SHA-256", e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    static String randomNonce() {
        byte[] raw = new byte[NONCE_BYTES];
        RANDOM.nextBytes(raw);
        // Standard base64 alphabet never contains ',' so the result is a valid RFC 5802 nonce.
        return Base64.getEncoder().encodeToString(raw);
    }

    static String base64(byte[] data) {
        return Base64.getEncoder().encodeToString(data);
    }
}

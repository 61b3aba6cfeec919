// purpose: PostgreSQL md5 password authentication (AuthenticationMD5Password) for both proxy sides
package io.pgbalancer.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;

/**
 * {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}. Strings are hashed as UTF-8, which is what
 * PostgreSQL sees from UTF-8 clients; other client encodings would hash different bytes.
 */
public final class Md5Password {
    public static final int SALT_BYTES = 4;
    private static final HexFormat HEX = HexFormat.of(); // lowercase, as PostgreSQL emits

    private Md5Password() {
    }

    /** The PasswordMessage payload (without the trailing NUL) answering a salt from the server. */
    public static String encode(String user, String password, byte[] salt) {
        Objects.requireNonNull(salt, "salt");
        if (salt.length != SALT_BYTES) {
            throw new IllegalArgumentException("md5 salt must be " + SALT_BYTES + " bytes");
        }
        byte[] inner = innerHash(user, password).getBytes(StandardCharsets.US_ASCII);
        byte[] outerInput = new byte[inner.length + SALT_BYTES];
        System.arraycopy(inner, 0, outerInput, 0, inner.length);
        System.arraycopy(salt, 0, outerInput, inner.length, SALT_BYTES);
        return "md5" + md5Hex(outerInput);
    }

    /** Checks a client's response in constant time so the comparison leaks nothing about the expected hash. */
    public static boolean verify(String user, String password, byte[] salt, String clientResponse) {
        if (clientResponse == null) {
            return false;
        }
        byte[] expected = encode(user, password, salt).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, clientResponse.getBytes(StandardCharsets.UTF_8));
    }

    /** A fresh salt per attempt stops a captured response from being replayed. */
    public static byte[] randomSalt() {
        byte[] salt = new byte[SALT_BYTES];
        ScramCrypto.RANDOM.nextBytes(salt);
        return salt;
    }

    /** hex(md5(password + user)): the part PostgreSQL stores in pg_authid after the "md5" prefix. */
    static String innerHash(String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        return md5Hex((password + user).getBytes(StandardCharsets.UTF_8));
    }

    private static String md5Hex(byte[] data) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks MD5", e);
        }
    }
}

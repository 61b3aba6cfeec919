// purpose: a client's side of SCRAM-SHA-256 written out for tests, with the salted password cached per salt
package io.pgbalancer.fuzz;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One exchange per instance. The PBKDF2 step (4096 iterations for pgbalancer's users) depends only on the password,
 * salt and iteration count, so it is computed once per salt for the whole run: a fuzz input pays only for two HMACs.
 */
public final class ScramLogin {
    private static final Map<String, byte[]> SALTED = new HashMap<>();

    private final String password;
    private final String nonce;
    private final String clientFirstBare;

    public ScramLogin(String password, String nonce) {
        this.password = password;
        this.nonce = nonce;
        this.clientFirstBare = "n=,r=" + nonce;
    }

    /** The SASLInitialResponse data. */
    public byte[] clientFirst() {
        return ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /** The SASLResponse data answering {@code serverFirst}, or null when it is not a well-formed server-first. */
    public byte[] clientFinal(String serverFirst) {
        String[] parts = serverFirst.split(",");
        if (parts.length != 3 || !parts[0].startsWith("r=" + nonce) || !parts[1].startsWith("s=")
                || !parts[2].startsWith("i=")) {
            return null;
        }
        String combined = parts[0].substring(2);
        byte[] salt = Base64.getDecoder().decode(parts[1].substring(2));
        int iterations = Integer.parseInt(parts[2].substring(2));
        byte[] salted = salted(salt, iterations);
        byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
        byte[] storedKey = sha256(clientKey);
        String withoutProof = "c=biws,r=" + combined;
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] signature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.US_ASCII);
    }

    private byte[] salted(byte[] salt, int iterations) {
        String key = password + "\0" + Base64.getEncoder().encodeToString(salt) + "\0" + iterations;
        synchronized (SALTED) {
            return SALTED.computeIfAbsent(key, k -> {
                try {
                    PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
                    return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

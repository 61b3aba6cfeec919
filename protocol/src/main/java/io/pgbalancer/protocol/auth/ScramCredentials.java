// purpose: per-user SCRAM-SHA-256 verifier (salt, iterations, StoredKey, ServerKey), immutable and shareable
package io.pgbalancer.protocol.auth;

import java.util.Arrays;
import java.util.Objects;

/**
 * What the proxy keeps instead of a password to authenticate clients, equivalent to PostgreSQL's
 * {@code SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>}. Built once at startup and shared by all
 * event-loop threads, so every array is copied on the way in and on the way out: no caller can mutate it.
 */
public record ScramCredentials(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
    public static final int DEFAULT_ITERATIONS = 4096;
    public static final int DEFAULT_SALT_BYTES = 16;

    public ScramCredentials {
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (salt.length == 0) {
            throw new IllegalArgumentException("salt must not be empty");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be positive");
        }
        if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw new IllegalArgumentException("storedKey and serverKey must be " + ScramCrypto.KEY_LENGTH + " bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /** Derives the verifier the same way PostgreSQL's {@code scram_build_secret} does (SASLprep included). */
    public static ScramCredentials fromPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(salt, "salt");
        if (salt.length == 0) {
            throw new IllegalArgumentException("salt must not be empty");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be positive");
        }
        byte[] salted = ScramCrypto.saltedPassword(password, salt, iterations);
        byte[] clientKey = ScramCrypto.clientKey(salted);
        try {
            return new ScramCredentials(salt, iterations, ScramCrypto.sha256(clientKey), ScramCrypto.serverKey(salted));
        } finally {
            Arrays.fill(salted, (byte) 0);
            Arrays.fill(clientKey, (byte) 0);
        }
    }

    /** Fresh random salt with PostgreSQL's default parameters (16-byte salt, 4096 iterations). */
    public static ScramCredentials generate(String password) {
        byte[] salt = new byte[DEFAULT_SALT_BYTES];
        ScramCrypto.RANDOM.nextBytes(salt);
        return fromPassword(password, salt, DEFAULT_ITERATIONS);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    // The record defaults compare arrays by identity, which would make equal verifiers unequal.
    @Override
    public boolean equals(Object o) {
        return o instanceof ScramCredentials other
                && iterations == other.iterations
                && Arrays.equals(salt, other.salt)
                && Arrays.equals(storedKey, other.storedKey)
                && Arrays.equals(serverKey, other.serverKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(iterations, Arrays.hashCode(salt), Arrays.hashCode(storedKey), Arrays.hashCode(serverKey));
    }

    /** Keys are password-equivalent for an attacker who can replay them, so they never reach logs. */
    @Override
    public String toString() {
        return "ScramCredentials[iterations=" + iterations + ", salt=" + salt.length + " bytes, keys=<redacted>]";
    }
}

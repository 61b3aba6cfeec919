// The configured users, with SCRAM credentials derived once at startup and a decoy for names that do not exist.
package io.pgbalancer.auth;

import io.pgbalancer.config.User;
import io.pgbalancer.protocol.auth.ScramCredentials;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class UserDirectory {
    public record Entry(String name, String password, ScramCredentials scram) {
    }

    private final Map<String, Entry> users = new HashMap<>();
    private final byte[] decoySecret = new byte[32];

    public UserDirectory(List<User> configured) {
        this(configured, null);
    }

    /**
     * The users of a reloaded configuration. Users whose password did not change keep their SCRAM credentials, and
     * the decoy secret carries over, so a client cannot tell a reload happened from the salts it is sent.
     */
    public UserDirectory(List<User> configured, UserDirectory previous) {
        if (previous == null) {
            new SecureRandom().nextBytes(decoySecret);
        } else {
            System.arraycopy(previous.decoySecret, 0, decoySecret, 0, decoySecret.length);
        }
        for (User u : configured) {
            Entry before = previous == null ? null : previous.find(u.name());
            ScramCredentials scram = before != null && java.util.Objects.equals(before.password(), u.password())
                    ? before.scram()
                    : u.password() == null ? null : ScramCredentials.generate(u.password());
            users.put(u.name(), new Entry(u.name(), u.password(), scram));
        }
    }

    /** The user, or null. */
    public Entry find(String name) {
        return users.get(name);
    }

    public String password(String name) {
        Entry e = users.get(name);
        return e == null ? null : e.password();
    }

    /**
     * Credentials for a name that is not configured: the same salt on every attempt (as PostgreSQL's mock
     * authentication does), so probing cannot tell a missing user from a wrong password.
     */
    public ScramCredentials decoy(String name) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(decoySecret, "HmacSHA256"));
            byte[] digest = mac.doFinal(name.getBytes(StandardCharsets.UTF_8));
            byte[] salt = java.util.Arrays.copyOf(digest, ScramCredentials.DEFAULT_SALT_BYTES);
            byte[] key = java.util.Arrays.copyOfRange(digest, 0, 32);
            return new ScramCredentials(salt, ScramCredentials.DEFAULT_ITERATIONS, key, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}

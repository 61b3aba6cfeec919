// UserDirectory across a reload: unchanged passwords keep their SCRAM credentials, changed ones get new, same decoys.
package io.pgbalancer.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.User;
import io.pgbalancer.protocol.auth.ScramCredentials;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class UserDirectoryTest {
    private static final UserDirectory BEFORE = new UserDirectory(List.of(
            new User("app", "s3cret"), new User("ops", "0ps"), new User("gone", "g0ne"), new User("open", null)));

    /** Whether {@code scram} verifies {@code password} (derived again with the same salt and iterations). */
    private static boolean verifies(ScramCredentials scram, String password) {
        ScramCredentials again = ScramCredentials.fromPassword(password, scram.salt(), scram.iterations());
        return Arrays.equals(again.storedKey(), scram.storedKey())
                && Arrays.equals(again.serverKey(), scram.serverKey());
    }

    @Test
    void anUnchangedPasswordKeepsTheVerySameCredentialsAndAChangedOneGetsNewOnes() {
        ScramCredentials app = BEFORE.find("app").scram();
        ScramCredentials ops = BEFORE.find("ops").scram();

        UserDirectory after = new UserDirectory(List.of(new User("app", "s3cret"), new User("ops", "n3w-0ps")),
                BEFORE);

        assertSame(app, after.find("app").scram(), "same password: same salt and keys, nothing derived again");
        ScramCredentials opsAfter = after.find("ops").scram();
        assertNotSame(ops, opsAfter);
        assertFalse(Arrays.equals(ops.salt(), opsAfter.salt()), "a new password gets a new salt");
        assertTrue(verifies(opsAfter, "n3w-0ps"));
        assertFalse(verifies(opsAfter, "0ps"), "the old password no longer verifies");
        assertEquals("n3w-0ps", after.password("ops"));
        assertNull(after.find("gone"), "a removed user is gone");
        assertNull(after.password("gone"));
    }

    @Test
    void addedUsersAndUsersGivenAPasswordGetCredentials() {
        UserDirectory after = new UserDirectory(List.of(new User("app", "s3cret"), new User("fresh", "fr3sh"),
                new User("open", "n0w-set")), BEFORE);
        assertNull(BEFORE.find("open").scram(), "no password (trust): no credentials");
        assertNotNull(after.find("fresh").scram());
        assertTrue(verifies(after.find("fresh").scram(), "fr3sh"));
        assertTrue(verifies(after.find("open").scram(), "n0w-set"));
    }

    @Test
    void decoysKeepTheirSaltAcrossAReload() {
        ScramCredentials before = BEFORE.decoy("nobody");
        UserDirectory after = new UserDirectory(List.of(new User("app", "other")), BEFORE);
        assertArrayEquals(before.salt(), after.decoy("nobody").salt(),
                "a prober must not see the salt of a missing user change at a reload");
        assertArrayEquals(before.storedKey(), after.decoy("nobody").storedKey());
        assertArrayEquals(BEFORE.decoy("gone-soon").salt(), after.decoy("gone-soon").salt());
        UserDirectory twice = new UserDirectory(List.of(new User("app", "other")), after);
        assertArrayEquals(before.salt(), twice.decoy("nobody").salt(), "and across the next reload too");
    }

    @Test
    void aDirectoryBuiltFromScratchHasItsOwnDecoySecret() {
        UserDirectory fresh = new UserDirectory(List.of(new User("app", "s3cret")));
        assertFalse(Arrays.equals(BEFORE.decoy("nobody").salt(), fresh.decoy("nobody").salt()),
                "without a previous directory the decoy secret is random");
        assertArrayEquals(fresh.decoy("nobody").salt(), fresh.decoy("nobody").salt(), "stable for one name");
        assertFalse(Arrays.equals(fresh.decoy("nobody").salt(), fresh.decoy("somebody").salt()));
    }
}

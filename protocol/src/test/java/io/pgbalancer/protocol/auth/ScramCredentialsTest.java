// purpose: ScramCredentials is immutable, validated, and keeps keys out of toString
package io.pgbalancer.protocol.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramCredentialsTest {
    @Test
    void generateUsesPostgresDefaults() {
        ScramCredentials creds = ScramCredentials.generate("pw");
        assertEquals(16, creds.salt().length);
        assertEquals(4096, creds.iterations());
        assertEquals(32, creds.storedKey().length);
        assertEquals(32, creds.serverKey().length);
        assertNotEquals(Arrays.toString(creds.salt()), Arrays.toString(ScramCredentials.generate("pw").salt()));
    }

    @Test
    void arraysAreDefensivelyCopied() {
        byte[] salt = {1, 2, 3, 4};
        ScramCredentials creds = ScramCredentials.fromPassword("pw", salt, 10);
        ScramCredentials copy = ScramCredentials.fromPassword("pw", salt.clone(), 10);
        salt[0] = 9;
        creds.salt()[1] = 9;
        creds.storedKey()[0] ^= 1;
        creds.serverKey()[0] ^= 1;
        assertEquals(copy, creds);
        assertEquals(copy.hashCode(), creds.hashCode());
        assertEquals(1, creds.salt()[0]);
    }

    @Test
    void toStringRedactsKeys() {
        ScramCredentials creds = ScramCredentials.fromPassword("pw", new byte[] {1, 2, 3}, 10);
        String text = creds.toString();
        assertFalse(text.contains(Base64.getEncoder().encodeToString(creds.storedKey())));
        assertFalse(text.contains(Arrays.toString(creds.serverKey())));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ScramCredentials.fromPassword("pw", new byte[0], 10));
        assertThrows(IllegalArgumentException.class, () -> ScramCredentials.fromPassword("pw", new byte[4], 0));
        assertThrows(IllegalArgumentException.class, () -> new ScramCredentials(new byte[4], 10, new byte[31], new byte[32]));
        assertThrows(NullPointerException.class, () -> ScramCredentials.fromPassword(null, new byte[4], 10));
    }

    @Test
    void emptyPasswordStillDerives() {
        assertEquals(32, ScramCredentials.fromPassword("", new byte[] {1}, 2).storedKey().length);
    }
}

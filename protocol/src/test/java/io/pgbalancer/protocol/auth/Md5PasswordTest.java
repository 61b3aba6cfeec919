// purpose: md5 password encoding matches PostgreSQL's two-stage hash, computed independently here
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {
    static final byte[] SALT = {0x01, 0x02, 0x03, 0x04};

    static String md5Hex(byte[] data) throws Exception {
        byte[] digest = MessageDigest.getInstance("MD5").digest(data);
        StringBuilder hex = new StringBuilder();
        for (byte b : digest) {
            hex.append(String.format("%02x", b & 0xff));
        }
        return hex.toString();
    }

    @Test
    void innerHashIsMd5OfPasswordThenUser() throws Exception {
        assertEquals(md5Hex("secretpostgres".getBytes(UTF_8)), Md5Password.innerHash("postgres", "secret"));
    }

    @Test
    void encodeMatchesStepByStepComputation() throws Exception {
        String inner = md5Hex("secretpostgres".getBytes(UTF_8));
        byte[] innerBytes = inner.getBytes(UTF_8);
        byte[] outerInput = Arrays.copyOf(innerBytes, innerBytes.length + 4);
        System.arraycopy(SALT, 0, outerInput, innerBytes.length, 4);
        String expected = "md5" + md5Hex(outerInput);
        assertEquals(expected, Md5Password.encode("postgres", "secret", SALT));
        assertEquals(35, expected.length());
    }

    @Test
    void knownValue() {
        // Pinned literals computed outside the JVM (Python hashlib) so a shared JDK bug cannot hide.
        assertEquals("53f48b7c4b76a86ce72276c5755f217d", Md5Password.innerHash("postgres", "secret"));
        assertEquals("md5bb41a296aab6baccb36ff243a562abff", Md5Password.encode("postgres", "secret", SALT));
    }

    @Test
    void verifyAcceptsOnlyTheExactResponse() {
        String good = Md5Password.encode("postgres", "secret", SALT);
        assertTrue(Md5Password.verify("postgres", "secret", SALT, good));
        assertFalse(Md5Password.verify("postgres", "Secret", SALT, good));
        assertFalse(Md5Password.verify("postgres", "secret", new byte[] {1, 2, 3, 5}, good));
        assertFalse(Md5Password.verify("postgres", "secret", SALT, good.toUpperCase()));
        assertFalse(Md5Password.verify("postgres", "secret", SALT, good + "\u0000"));
        assertFalse(Md5Password.verify("postgres", "secret", SALT, ""));
        assertFalse(Md5Password.verify("postgres", "secret", SALT, null));
    }

    @Test
    void randomSaltIsFourFreshBytes() {
        assertEquals(4, Md5Password.randomSalt().length);
        assertNotEquals(Arrays.toString(Md5Password.randomSalt()) + Arrays.toString(Md5Password.randomSalt()),
                Arrays.toString(Md5Password.randomSalt()) + Arrays.toString(Md5Password.randomSalt()));
    }

    @Test
    void wrongSaltLengthIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> Md5Password.encode("u", "p", new byte[3]));
    }
}

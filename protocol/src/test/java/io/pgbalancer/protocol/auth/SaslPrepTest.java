// purpose: SASLprep approximation follows RFC 4013 §3 examples and PostgreSQL's raw fallback
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class SaslPrepTest {
    @Test
    void rfc4013Examples() {
        assertEquals("IX", SaslPrep.prepare("I\u00ADX"));
        assertEquals("user", SaslPrep.prepare("user"));
        assertEquals("USER", SaslPrep.prepare("USER"));
        assertEquals("a", SaslPrep.prepare("\u00AA"));
        assertEquals("IX", SaslPrep.prepare("\u2168"));
    }

    @Test
    void prohibitedOrBidiInvalidFallsBackToRawLikePostgres() {
        // RFC 4013 says "error"; PostgreSQL then hashes the unprepared password instead.
        assertEquals("\u0007", SaslPrep.prepare("\u0007"));
        assertEquals("\u0627\u0031", SaslPrep.prepare("\u0627\u0031"));
        assertEquals("\u00e9\uE000", SaslPrep.prepare("\u00e9\uE000"));
        assertEquals("\u00e9\uD800", SaslPrep.prepare("\u00e9\uD800"));
        assertEquals("\u00AD", SaslPrep.prepare("\u00AD"));
    }

    @Test
    void asciiIsUntouchedEvenWithControlCharacters() {
        assertEquals(" tab\there ", SaslPrep.prepare(" tab\there "));
    }

    @Test
    void nonAsciiSpacesAndJoinersAreMapped() {
        assertEquals("a b", SaslPrep.prepare("a\u00A0b"));
        assertEquals("a b", SaslPrep.prepare("a\u3000b"));
        assertEquals("ab", SaslPrep.prepare("a\uFEFFb\u200D"));
        assertEquals("\u0627\u0628", SaslPrep.prepare("\u0627\u0628"));
    }

    @Test
    void saltedPasswordHashesUtf8OfPreparedPassword() {
        byte[] salt = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
        String prepared = "p\u00e4ssw\u00f6rd";
        byte[] expected = ReferenceScram.hi(prepared.getBytes(UTF_8), salt, 17);
        ScramRfc7677VectorTest.assertArrayEqualsB64(expected, ScramCrypto.saltedPassword("pa\u0308sswo\u0308rd", salt, 17));
    }
}

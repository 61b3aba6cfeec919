// purpose: both SCRAM sides reproduce the RFC 7677 §3 SCRAM-SHA-256 example exactly
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScramRfc7677VectorTest {
    static final String PASSWORD = "pencil";
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    @Test
    void clientSideMatchesVector() throws Exception {
        ScramClientExchange client =
                new ScramClientExchange(PASSWORD, List.of("SCRAM-SHA-256"), CLIENT_NONCE, "user");
        assertEquals(CLIENT_FIRST, new String(client.clientFirst(), UTF_8));
        assertEquals(CLIENT_FINAL, new String(client.clientFinal(SERVER_FIRST.getBytes(UTF_8)), UTF_8));
        assertFalse(client.isComplete());
        client.verifyServerFinal(SERVER_FINAL.getBytes(UTF_8));
        assertTrue(client.isComplete());
    }

    @Test
    void serverSideMatchesVector() throws Exception {
        ScramCredentials creds = ScramCredentials.fromPassword(PASSWORD, SALT, 4096);
        ScramServerExchange server = new ScramServerExchange(creds, SERVER_NONCE);
        assertEquals("SCRAM-SHA-256", server.mechanism());
        assertEquals(SERVER_FIRST, new String(server.serverFirst(CLIENT_FIRST.getBytes(UTF_8)), UTF_8));
        assertEquals(SERVER_FINAL, new String(server.serverFinal(CLIENT_FINAL.getBytes(UTF_8)), UTF_8));
        assertTrue(server.isComplete());
    }

    @Test
    void credentialsMatchIndependentDerivation() {
        ScramCredentials creds = ScramCredentials.fromPassword(PASSWORD, SALT, 4096);
        byte[] salted = ReferenceScram.hi(PASSWORD.getBytes(UTF_8), SALT, 4096);
        byte[] clientKey = ReferenceScram.hmac(salted, "Client Key".getBytes(UTF_8));
        assertArrayEqualsB64(ReferenceScram.sha256(clientKey), creds.storedKey());
        assertArrayEqualsB64(ReferenceScram.hmac(salted, "Server Key".getBytes(UTF_8)), creds.serverKey());
    }

    static void assertArrayEqualsB64(byte[] expected, byte[] actual) {
        assertEquals(Base64.getEncoder().encodeToString(expected), Base64.getEncoder().encodeToString(actual));
    }
}

// purpose: SCRAM-SHA-256-PLUS (tls-server-end-point) between the client and server exchanges, and its refusals
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScramChannelBindingTest {
    private static final ScramCredentials CREDS = ScramCredentials.generate("pw");
    private static final byte[] CERT_HASH = filled(32, 7);
    private static final byte[] OTHER_CERT_HASH = filled(32, 9);

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void serverOffersPlusFirstOnlyOverTls() {
        assertEquals(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"),
                new ScramServerExchange(CREDS, CERT_HASH).mechanisms());
        assertEquals(List.of("SCRAM-SHA-256"), new ScramServerExchange(CREDS).mechanisms());
    }

    @Test
    void boundLoginSucceedsWhenBothSeeTheSameCertificate() throws Exception {
        ScramServerExchange server = new ScramServerExchange(CREDS, CERT_HASH);
        ScramClientExchange client = new ScramClientExchange("pw", server.mechanisms(), CERT_HASH);
        assertEquals("SCRAM-SHA-256-PLUS", client.mechanism());
        String first = new String(client.clientFirst(), UTF_8);
        assertTrue(first.startsWith("p=tls-server-end-point,,n=,r="), first);
        byte[] serverFinal = server.serverFinal(client.clientFinal(server.serverFirst(client.mechanism(),
                client.clientFirst())));
        client.verifyServerFinal(serverFinal);
        assertTrue(server.isComplete());
        assertTrue(client.isComplete());
    }

    @Test
    void boundLoginFailsWhenTheClientSawAnotherCertificate() throws Exception {
        // a man in the middle terminating TLS with its own certificate: the hashes differ
        ScramServerExchange server = new ScramServerExchange(CREDS, CERT_HASH);
        ScramClientExchange client = new ScramClientExchange("pw", server.mechanisms(), OTHER_CERT_HASH);
        byte[] clientFinal = client.clientFinal(server.serverFirst(client.mechanism(), client.clientFirst()));
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> server.serverFinal(clientFinal));
        assertTrue(e.getMessage().contains("channel binding"), e.getMessage());
    }

    @Test
    void yFlagOverTlsIsADowngrade() {
        ScramServerExchange server = new ScramServerExchange(CREDS, CERT_HASH);
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> server.serverFirst("SCRAM-SHA-256", "y,,n=,r=abcdef".getBytes(UTF_8)));
        assertTrue(e.getMessage().contains("negotiation error"), e.getMessage());
    }

    @Test
    void plainScramOverTlsStillWorksForClientsThatCannotBind() throws Exception {
        ScramServerExchange server = new ScramServerExchange(CREDS, CERT_HASH);
        ScramClientExchange client = new ScramClientExchange("pw", server.mechanisms());
        assertEquals("SCRAM-SHA-256", client.mechanism());
        client.verifyServerFinal(server.serverFinal(client.clientFinal(server.serverFirst(client.mechanism(),
                client.clientFirst()))));
        assertTrue(client.isComplete());
    }

    @Test
    void mechanismAndGs2FlagMustAgree() {
        assertThrows(AuthenticationFailedException.class, () -> new ScramServerExchange(CREDS, CERT_HASH)
                .serverFirst("SCRAM-SHA-256-PLUS", "n,,n=,r=abcdef".getBytes(UTF_8)));
        assertThrows(AuthenticationFailedException.class, () -> new ScramServerExchange(CREDS, CERT_HASH)
                .serverFirst("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abcdef".getBytes(UTF_8)));
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> new ScramServerExchange(CREDS, CERT_HASH)
                        .serverFirst("SCRAM-SHA-256-PLUS", "p=tls-unique,,n=,r=abcdef".getBytes(UTF_8)));
        assertTrue(e.getMessage().contains("unsupported SCRAM channel-binding type"), e.getMessage());
        assertThrows(AuthenticationFailedException.class, () -> new ScramServerExchange(CREDS)
                .serverFirst("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abcdef".getBytes(UTF_8)));
    }

    @Test
    void clientBindsOnlyWhenOffered() throws Exception {
        ScramClientExchange client = new ScramClientExchange("pw", List.of("SCRAM-SHA-256"), CERT_HASH);
        assertEquals("SCRAM-SHA-256", client.mechanism());
        assertTrue(new String(client.clientFirst(), UTF_8).startsWith("y,,"));
    }

    @Test
    void endPointHashFollowsTheSignatureAlgorithm() {
        assertEquals("SHA-256", TlsServerEndPoint.digestName("SHA256withRSA"));
        assertEquals("SHA-256", TlsServerEndPoint.digestName("SHA1withRSA"));
        assertEquals("SHA-256", TlsServerEndPoint.digestName("MD5withRSA"));
        assertEquals("SHA-384", TlsServerEndPoint.digestName("SHA384withECDSA"));
        assertEquals("SHA-512", TlsServerEndPoint.digestName("SHA512withRSA"));
        assertThrows(IllegalArgumentException.class, () -> TlsServerEndPoint.digestName("Ed25519"));
    }
}

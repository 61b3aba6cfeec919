// purpose: client and server SCRAM exchanges interoperate, and the security-relevant failures are detected
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScramRoundTripTest {
    static final List<String> PLAIN = List.of("SCRAM-SHA-256");
    static final List<String> WITH_PLUS = List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");

    /** Runs a full exchange; returns the completed client so callers can check its state. */
    static ScramClientExchange login(String clientPassword, ScramCredentials creds, List<String> offered)
            throws AuthenticationFailedException {
        ScramClientExchange client = new ScramClientExchange(clientPassword, offered);
        ScramServerExchange server = new ScramServerExchange(creds);
        byte[] serverFirst = server.serverFirst(client.clientFirst());
        byte[] serverFinal = server.serverFinal(client.clientFinal(serverFirst));
        assertTrue(server.isComplete());
        client.verifyServerFinal(serverFinal);
        return client;
    }

    @Test
    void roundTripSucceeds() throws Exception {
        assertTrue(login("s3cret", ScramCredentials.generate("s3cret"), PLAIN).isComplete());
    }

    @Test
    void roundTripWithPlusOfferedWithoutTlsUsesNFlagAndSucceeds() throws Exception {
        // no TLS under the client, so it cannot bind: "n" ("y" would tell a server over TLS it was downgraded)
        ScramClientExchange client = new ScramClientExchange("pw", WITH_PLUS);
        assertTrue(new String(client.clientFirst(), UTF_8).startsWith("n,,n=,r="));
        assertTrue(login("pw", ScramCredentials.generate("pw"), WITH_PLUS).isComplete());
    }

    @Test
    void clientWithoutPlusOfferedUsesNFlagAndEmptyUsername() throws Exception {
        String first = new String(new ScramClientExchange("pw", PLAIN).clientFirst(), UTF_8);
        assertTrue(first.matches("n,,n=,r=[A-Za-z0-9+/=]{24}"), first);
    }

    @Test
    void nonAsciiPasswordsAreSaslPreppedOnBothSides() throws Exception {
        // Composed vs decomposed umlauts must authenticate: NFKC makes them the same password.
        ScramCredentials creds = ScramCredentials.generate("p\u00e4ssw\u00f6rd");
        assertTrue(login("pa\u0308sswo\u0308rd", creds, PLAIN).isComplete());
    }

    @Test
    void wrongPasswordFailsAtServerFinal() throws Exception {
        ScramClientExchange client = new ScramClientExchange("hunter2-xyz", PLAIN);
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("correct-horse"));
        byte[] clientFinal = client.clientFinal(server.serverFirst(client.clientFirst()));
        AuthenticationFailedException e =
                assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(clientFinal));
        assertFalse(e instanceof MalformedAuthMessageException);
        assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("correct-horse"));
        assertFalse(server.isComplete());
    }

    @Test
    void failedExchangeCannotBeRetried() throws Exception {
        ScramCredentials creds = ScramCredentials.generate("pw");
        ScramServerExchange server = new ScramServerExchange(creds, "SERVERNONCE");
        ScramClientExchange bad = new ScramClientExchange("nope", PLAIN, "CLIENTNONCE", "");
        ScramClientExchange good = new ScramClientExchange("pw", PLAIN, "CLIENTNONCE", "");
        byte[] serverFirst = server.serverFirst(bad.clientFirst());
        byte[] badFinal = bad.clientFinal(serverFirst);
        good.clientFirst();
        byte[] goodFinal = good.clientFinal(serverFirst);
        assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(badFinal));
        assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(goodFinal));
    }

    @Test
    void tamperedNonceFailsAtServer() throws Exception {
        ScramClientExchange client = new ScramClientExchange("pw", PLAIN);
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("pw"));
        String clientFinal = new String(client.clientFinal(server.serverFirst(client.clientFirst())), UTF_8);
        String tampered = clientFinal.replaceFirst(",r=(.)", ",r=X$1");
        assertNotEquals(clientFinal, tampered);
        assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(tampered.getBytes(UTF_8)));
    }

    @Test
    void serverNonceNotExtendingClientNonceFailsAtClient() throws Exception {
        ScramClientExchange client = new ScramClientExchange("pw", PLAIN, "abc", "");
        client.clientFirst();
        assertThrows(AuthenticationFailedException.class,
                () -> client.clientFinal("r=abX123,s=QUJDRA==,i=4096".getBytes(UTF_8)));
    }

    @Test
    void forgedServerSignatureFailsAtClient() throws Exception {
        ScramClientExchange client = new ScramClientExchange("pw", PLAIN);
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("other"));
        client.clientFinal(server.serverFirst(client.clientFirst()));
        byte[] forged = ("v=" + java.util.Base64.getEncoder().encodeToString(new byte[32])).getBytes(UTF_8);
        assertThrows(AuthenticationFailedException.class, () -> client.verifyServerFinal(forged));
        assertFalse(client.isComplete());
    }

    @Test
    void channelBindingRequestIsRejected() {
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("pw"));
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> server.serverFirst("p=tls-server-end-point,,n=,r=abcdef".getBytes(UTF_8)));
        assertTrue(e.getMessage().contains("channel binding"), e.getMessage());
    }

    @Test
    void yFlagIsAcceptedAndMustBeEchoedInC() throws Exception {
        // a client over TLS whose server offers no -PLUS says "y"
        ScramClientExchange client = new ScramClientExchange("pw", PLAIN, new byte[32]);
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("pw"));
        String clientFinal = new String(client.clientFinal(server.serverFirst(client.clientFirst())), UTF_8);
        assertTrue(clientFinal.startsWith("c=eSws,"), clientFinal);
        // A client claiming "n,," in c= after sending "y,," (downgrade tampering) must fail.
        ScramServerExchange server2 = new ScramServerExchange(ScramCredentials.generate("pw"), "SN");
        server2.serverFirst("y,,n=,r=CN".getBytes(UTF_8));
        assertThrows(AuthenticationFailedException.class,
                () -> server2.serverFinal(("c=biws,r=CNSN,p=" + "A".repeat(43) + "=").getBytes(UTF_8)));
    }

    @Test
    void authzidIsRejected() {
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("pw"));
        assertThrows(AuthenticationFailedException.class,
                () -> server.serverFirst("n,a=admin,n=,r=abcdef".getBytes(UTF_8)));
    }

    @Test
    void usernameAttributeIsIgnored() throws Exception {
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("pw"), "SN");
        String first = new String(server.serverFirst("n,,n=some=2Cbody,r=CN".getBytes(UTF_8)), UTF_8);
        assertTrue(first.startsWith("r=CNSN,s="), first);
        assertTrue(first.endsWith(",i=4096"), first);
    }

    @Test
    void chooseMechanism() throws Exception {
        assertEquals("SCRAM-SHA-256", ScramClientExchange.chooseMechanism(WITH_PLUS));
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> ScramClientExchange.chooseMechanism(List.of("SCRAM-SHA-256-PLUS", "OAUTHBEARER")));
        assertTrue(e.getMessage().contains("SCRAM-SHA-256-PLUS, OAUTHBEARER"), e.getMessage());
        assertThrows(AuthenticationFailedException.class, () -> new ScramClientExchange("pw", List.of()));
    }

    @Test
    void serverErrorIsReported() throws Exception {
        ScramClientExchange client = new ScramClientExchange("pw", PLAIN);
        ScramServerExchange server = new ScramServerExchange(ScramCredentials.generate("pw"));
        client.clientFinal(server.serverFirst(client.clientFirst()));
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> client.verifyServerFinal("e=invalid-proof".getBytes(UTF_8)));
        assertTrue(e.getMessage().contains("invalid-proof"), e.getMessage());
    }

    @Test
    void noncesAreRandomPerExchange() throws Exception {
        assertNotEquals(new String(new ScramClientExchange("pw", PLAIN).clientFirst(), UTF_8),
                new String(new ScramClientExchange("pw", PLAIN).clientFirst(), UTF_8));
        ScramCredentials creds = ScramCredentials.generate("pw");
        byte[] first = "n,,n=,r=abc".getBytes(UTF_8);
        assertNotEquals(new String(new ScramServerExchange(creds).serverFirst(first), UTF_8),
                new String(new ScramServerExchange(creds).serverFirst(first), UTF_8));
    }
}

// purpose: fuzzes both SCRAM sides and md5 with corrupted messages: only the checked failure, success only unmodified
package io.pgbalancer.protocol.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.fuzz.Fuzz;
import io.pgbalancer.fuzz.Msg;
import io.pgbalancer.fuzz.Mutate;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Contract: {@link AuthenticationFailedException} (or its subclass for garbage) and nothing else, whatever the peer
 * sends; and an exchange succeeds only when every message is exactly the one the honest peer produced. Credentials use
 * 1 to 3 iterations so a run can afford a full exchange per input.
 */
@Tag("fuzz")
class ScramFuzzTest {
    private static final String PASSWORD = "pencil";
    private static final List<String> MECHANISMS = List.of("SCRAM-SHA-256");
    private static final Pattern ITERATIONS = Pattern.compile(",i=([0-9]+)$");

    private static ScramCredentials credentials(SplittableRandom r) {
        byte[] salt = Mutate.random(r, 1 + r.nextInt(20));
        return ScramCredentials.fromPassword(PASSWORD, salt, 1 + r.nextInt(3));
    }

    /** {@code message} mostly unchanged, else corrupted bytes, a structural variant, or random bytes. */
    private static byte[] maybeCorrupt(Fuzz.Case c, byte[] message, String... variants) {
        return switch (c.random.nextInt(8)) {
            case 0, 1, 2 -> message;
            case 3 -> Mutate.random(c.random, c.random.nextInt(40));
            case 4 -> variants.length == 0 ? message : c.pick(variants).getBytes(StandardCharsets.UTF_8);
            default -> Mutate.mutate(c.random, Msg.raw(message));
        };
    }

    /** The proxy as SCRAM server, a corrupted client. */
    @Test
    void serverExchange() {
        Fuzz.run("ScramServerExchange", 1.0, c -> {
            boolean rightPassword = c.chance(0.8);
            ScramClientExchange client = new ScramClientExchange(rightPassword ? PASSWORD : "pencil2", MECHANISMS);
            ScramServerExchange server = new ScramServerExchange(credentials(c.random));
            byte[] first = client.clientFirst();
            byte[] firstSent = maybeCorrupt(c, first, "n,,n=,r=", "y,,n=user,r=abc", "p=tls-unique,,n=,r=abc",
                    "n,a=admin,n=,r=abc", "n,,n=,r=a,b", "n,,m=ext,n=,r=abc", "n,,n=,r=abc,x=1", "n,,", "e=x");
            c.input("client-first", firstSent);
            byte[] serverFirst;
            try {
                serverFirst = server.serverFirst(firstSent);
            } catch (AuthenticationFailedException e) {
                c.outcome("first refused");
                assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(first),
                        "a failed exchange accepts nothing more");
                return;
            }
            String sf = new String(serverFirst, StandardCharsets.US_ASCII);
            assertTrue(sf.matches("r=[!-+\\--~]+,s=[A-Za-z0-9+/=]+,i=[0-9]+"), sf);
            byte[] fin;
            try {
                fin = client.clientFinal(serverFirst);
            } catch (AuthenticationFailedException e) {
                c.outcome("client refused the server-first"); // the corrupted first changed the nonce
                return;
            }
            byte[] finSent = maybeCorrupt(c, fin, "c=biws,r=x,p=" + "A".repeat(44), "c=biws", "c=,r=,p=",
                    new String(fin, StandardCharsets.US_ASCII) + ",x=1");
            c.input("client-final", finSent);
            byte[] serverFinal;
            try {
                serverFinal = server.serverFinal(finSent);
            } catch (AuthenticationFailedException e) {
                assertFalse(server.isComplete());
                c.outcome(e instanceof MalformedAuthMessageException ? "final malformed" : "final refused");
                return;
            }
            assertTrue(rightPassword, "a wrong password was accepted");
            assertArrayEquals(first, firstSent, "accepted a corrupted client-first-message");
            assertArrayEquals(fin, finSent, "accepted a corrupted client-final-message");
            assertTrue(server.isComplete());
            client.verifyServerFinal(serverFinal);
            assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(fin), "no second proof");
            c.outcome("authenticated");
        });
    }

    /** The proxy as SCRAM client of a backend, a corrupted (or malicious) server. */
    @Test
    void clientExchange() {
        Fuzz.run("ScramClientExchange", 1.0, c -> {
            List<String> offered = c.chance(0.9) ? MECHANISMS
                    : c.pick(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"), List.of("SCRAM-SHA-256-PLUS"), List.of(),
                    List.of("MD5", "SCRAM-SHA-1"));
            ScramClientExchange client;
            try {
                client = new ScramClientExchange(PASSWORD, offered);
            } catch (AuthenticationFailedException e) {
                assertFalse(offered.contains("SCRAM-SHA-256"));
                c.outcome("no mechanism");
                return;
            }
            ScramServerExchange server = new ScramServerExchange(credentials(c.random));
            byte[] serverFirst = server.serverFirst(client.clientFirst());
            byte[] sent = maybeCorrupt(c, serverFirst, "e=invalid-proof", "r=,s=,i=", "r=x,s=c2FsdA==,i=1",
                    new String(serverFirst, StandardCharsets.US_ASCII).replaceAll("i=[0-9]+$", "i=0"),
                    new String(serverFirst, StandardCharsets.US_ASCII).replaceAll("i=[0-9]+$", "i=-1"),
                    new String(serverFirst, StandardCharsets.US_ASCII).replaceAll("i=[0-9]+$", "i=99999999999"),
                    new String(serverFirst, StandardCharsets.US_ASCII).replaceAll(",s=[^,]*", ",s=c2FsdA"));
            Matcher m = ITERATIONS.matcher(new String(sent, StandardCharsets.ISO_8859_1));
            if (m.find() && m.group(1).length() <= 9 && Integer.parseInt(m.group(1)) > 4096) {
                c.outcome("skipped: iteration count too costly to fuzz");
                return; // valid up to ScramClientExchange.MAX_ITERATIONS; each would cost up to seconds
            }
            c.input("server-first", sent);
            byte[] fin;
            try {
                fin = client.clientFinal(sent);
            } catch (AuthenticationFailedException e) {
                c.outcome("server-first refused");
                assertThrows(AuthenticationFailedException.class, () -> client.verifyServerFinal(new byte[] {'v'}));
                return;
            }
            byte[] serverFinal;
            try {
                serverFinal = server.serverFinal(fin);
            } catch (AuthenticationFailedException e) {
                assertFalse(Arrays.equals(serverFirst, sent), "the honest exchange failed: " + e.getMessage());
                c.outcome("proof refused (corrupted server-first)");
                return;
            }
            byte[] finalSent = maybeCorrupt(c, serverFinal, "v=", "e=other-error", "v=AAAA",
                    new String(serverFinal, StandardCharsets.US_ASCII) + ",x=1");
            c.input("server-final", finalSent);
            try {
                client.verifyServerFinal(finalSent);
            } catch (AuthenticationFailedException e) {
                assertFalse(client.isComplete());
                c.outcome("server-final refused");
                return;
            }
            assertArrayEquals(serverFinal, finalSent, "accepted a corrupted server signature");
            assertTrue(client.isComplete());
            c.outcome("authenticated");
        });
    }

    /** md5: any response is true only when it is the exact encoding; nothing throws. */
    @Test
    void md5() {
        Fuzz.run("Md5Password", 1.0, c -> {
            byte[] salt = Mutate.random(c.random, Md5Password.SALT_BYTES);
            String user = c.pick("app", "", "é", "a\u0000b");
            String expected = Md5Password.encode(user, PASSWORD, salt);
            byte[] response = maybeCorrupt(c, expected.getBytes(StandardCharsets.UTF_8), "md5", "",
                    expected.toUpperCase(), expected + "\0", "md5" + "0".repeat(32));
            String sent = new String(response, StandardCharsets.UTF_8);
            c.input("response", response);
            boolean ok = Md5Password.verify(user, PASSWORD, salt, sent);
            assertEquals(sent.equals(expected), ok);
            c.outcome(ok ? "authenticated" : "refused");
        });
    }
}

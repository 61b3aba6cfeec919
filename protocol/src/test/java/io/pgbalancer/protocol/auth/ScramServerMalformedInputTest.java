// purpose: hostile client input to ScramServerExchange only ever yields the checked exception
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramServerMalformedInputTest {
    static final ScramCredentials CREDS = ScramCredentials.generate("pw");
    static final String PROOF = "p=" + Base64.getEncoder().encodeToString(new byte[32]);

    static ScramServerExchange afterFirst() throws AuthenticationFailedException {
        ScramServerExchange server = new ScramServerExchange(CREDS, "SN");
        server.serverFirst("n,,n=,r=CN".getBytes(UTF_8));
        return server;
    }

    /** Passes if the call returns or throws the checked exception; any unchecked exception fails the test. */
    static void assertNoUncheckedException(Executable call) {
        try {
            call.execute();
        } catch (AuthenticationFailedException expected) {
            // fine
        } catch (Throwable t) {
            fail("unchecked " + t.getClass().getName() + " escaped", t);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "n", "n,", "n,,", "n,,n=", "n,,n=,", "n,,n=,r=", "n,,r=abc", "n,,r=abc,n=",
        "n,,n=,n=,r=abc", "n,,n=,r=abc,r=abc", "n,,n=,r=abc,", "n,,n=,r=abc,x=ext",
        "n,,m=ext,n=,r=abc", "x,,n=,r=abc", "nn,,n=,r=abc", "N,,n=,r=abc", "n,x,n=,r=abc",
        "n,a=admin,n=,r=abc", "p=tls-server-end-point,,n=,r=abc", "p,,n=,r=abc",
        "n,,n=,r=ab c", "n,,n=,r=ab\u00e9", "n,,n=,r=ab\tc", "n,,n,r=abc", "n,,=,r=abc", "n,,n=,rr=abc",
        "c=biws,r=abc,p=abc", "e=oops", ",,,", "n,,n=,r=abc\u0000"
    })
    void malformedClientFirstIsRejected(String message) {
        ScramServerExchange server = new ScramServerExchange(CREDS);
        assertThrows(AuthenticationFailedException.class, () -> server.serverFirst(message.getBytes(UTF_8)));
    }

    @Test
    void nonUtf8OversizedAndNullClientFirstAreRejected() {
        byte[][] inputs = {
            null,
            {(byte) 0xC3, 0x28},
            {'n', ',', ',', 'n', '=', (byte) 0xFF, ',', 'r', '=', 'a'},
            {'n', ',', ',', 'n', '=', ',', 'r', '=', 'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80},
            ("n,,n=,r=" + "a".repeat(2041)).getBytes(UTF_8),
        };
        for (byte[] input : inputs) {
            assertThrows(AuthenticationFailedException.class, () -> new ScramServerExchange(CREDS).serverFirst(input));
        }
    }

    @Test
    void maximumSizeClientFirstIsAccepted() throws Exception {
        new ScramServerExchange(CREDS).serverFirst(("n,,n=,r=" + "a".repeat(2040)).getBytes(UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "c=biws", "c=biws,r=CNSN", "c=biws,r=CNSN,", "c=biws,r=CNSN,p=",
        "c=eSws,r=CNSN,PROOF", "c=biws,r=CNSM,PROOF", "c=biws,r=CN,PROOF", "c=biws,r=CNSNX,PROOF",
        "c=biw,r=CNSN,PROOF", "c=biws=,r=CNSN,PROOF", "c=,r=CNSN,PROOF", "r=CNSN,c=biws,PROOF",
        "c=biws,r=CNSN,x=ext,PROOF", "c=biws,r=CNSN,PROOF,PROOF", "c=biws,c=biws,r=CNSN,PROOF",
        "c=biws,r=CNSN,PROOF,", "m=x,c=biws,r=CNSN,PROOF", "c=biws,r=CNSN,p=!!!!",
        "c=biws,r=CNSN,p=AAAA", "c=biws,r=CNSN,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "c=biws,r=CNSN,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
        "c=biws,r=CNSN,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "c=biws,r=CNSN,PROOF\u0000", "n,,n=,r=CN"
    })
    void malformedOrWrongClientFinalIsRejected(String template) throws Exception {
        String message = template.replace("PROOF", PROOF);
        ScramServerExchange server = afterFirst();
        assertThrows(AuthenticationFailedException.class, () -> server.serverFinal(message.getBytes(UTF_8)));
    }

    @Test
    void wellFormedWrongProofIsNotReportedAsMalformed() throws Exception {
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> afterFirst().serverFinal(("c=biws,r=CNSN," + PROOF).getBytes(UTF_8)));
        assertTrue(!(e instanceof MalformedAuthMessageException), e.getMessage());
    }

    @Test
    void outOfOrderCallsAreRejected() throws Exception {
        assertThrows(AuthenticationFailedException.class,
                () -> new ScramServerExchange(CREDS).serverFinal(("c=biws,r=CNSN," + PROOF).getBytes(UTF_8)));
        ScramServerExchange server = afterFirst();
        assertThrows(AuthenticationFailedException.class, () -> server.serverFirst("n,,n=,r=CN".getBytes(UTF_8)));
    }

    @Test
    void randomBytesNeverEscapeAsUncheckedExceptions() {
        Random random = new Random(42);
        for (int i = 0; i < 3000; i++) {
            byte[] junk = new byte[random.nextInt(i % 10 == 0 ? 3000 : 64)];
            random.nextBytes(junk);
            assertNoUncheckedException(() -> new ScramServerExchange(CREDS).serverFirst(junk));
            assertNoUncheckedException(() -> afterFirst().serverFinal(junk));
        }
    }

    @Test
    void mutatedValidMessagesNeverEscapeAsUncheckedExceptions() throws Exception {
        ScramClientExchange client = new ScramClientExchange("pw", java.util.List.of("SCRAM-SHA-256"), "CN", "");
        ScramServerExchange probe = new ScramServerExchange(CREDS, "SN");
        byte[] first = client.clientFirst();
        byte[] fin = client.clientFinal(probe.serverFirst(first));
        Random random = new Random(7);
        String alphabet = ",=nrcpymae ";
        for (byte[] valid : new byte[][] {first, fin}) {
            boolean isFirst = valid == first;
            for (int i = 0; i < 2000; i++) {
                byte[] mutated = mutate(valid, random, alphabet);
                if (isFirst) {
                    assertNoUncheckedException(() -> new ScramServerExchange(CREDS).serverFirst(mutated));
                } else {
                    assertNoUncheckedException(() -> afterFirst().serverFinal(mutated));
                }
            }
            for (int len = 0; len < valid.length; len++) {
                byte[] truncated = java.util.Arrays.copyOf(valid, len);
                if (isFirst) {
                    assertNoUncheckedException(() -> new ScramServerExchange(CREDS).serverFirst(truncated));
                } else {
                    assertThrows(AuthenticationFailedException.class, () -> afterFirst().serverFinal(truncated));
                }
            }
        }
    }

    static byte[] mutate(byte[] valid, Random random, String alphabet) {
        StringBuilder s = new StringBuilder(new String(valid, UTF_8));
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int pos = s.length() == 0 ? 0 : random.nextInt(s.length());
            switch (random.nextInt(4)) {
                case 0 -> { if (s.length() > 0) s.deleteCharAt(pos); }
                case 1 -> s.insert(pos, alphabet.charAt(random.nextInt(alphabet.length())));
                case 2 -> { if (s.length() > 0) s.setCharAt(pos, alphabet.charAt(random.nextInt(alphabet.length()))); }
                default -> s.insert(pos, s.substring(pos));
            }
        }
        return s.toString().getBytes(UTF_8);
    }
}

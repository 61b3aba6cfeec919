// purpose: hostile backend input to ScramClientExchange only ever yields the checked exception
package io.pgbalancer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramClientMalformedInputTest {
    static final List<String> PLAIN = List.of("SCRAM-SHA-256");

    static ScramClientExchange fresh() throws AuthenticationFailedException {
        ScramClientExchange client = new ScramClientExchange("pw", PLAIN, "CN", "");
        client.clientFirst();
        return client;
    }

    static ScramClientExchange afterFinal() throws AuthenticationFailedException {
        ScramClientExchange client = fresh();
        client.clientFinal("r=CNSN,s=QUJDRA==,i=1".getBytes(UTF_8));
        return client;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "r=CNSN", "r=CNSN,s=QUJDRA==", "r=CNSN,s=QUJDRA==,", "r=CNSN,s=QUJDRA==,i=",
        "r=CNSN,i=4096", "s=QUJDRA==,i=4096", "r=CNSN,i=4096,s=QUJDRA==", "r=CNSN,s=,i=4096",
        "r=CNSN,s=!!!!,i=4096", "r=CNSN,s=QUJDRA,i=4096", "r=CNSN,s=QUJDRB==,i=4096",
        "r=CNSN,s=QUJDRA==,i=99999999999", "r=CNSN,s=QUJDRA==,i=-1", "r=CNSN,s=QUJDRA==,i=0",
        "r=CNSN,s=QUJDRA==,i=+4096", "r=CNSN,s=QUJDRA==,i=4096 ", "r=CNSN,s=QUJDRA==,i=1e6",
        "r=CNSN,s=QUJDRA==,i=0x1000", "r=CNSN,s=QUJDRA==,i=10000001", "r=CNSN,s=QUJDRA==,i=2147483648",
        "r=CNSN,s=QUJDRA==,i=4294967296", "r=CNSN,s=QUJDRA==,i=abc", "r=CNSN,s=QUJDRA==,i=\u0664\u0660",
        "r=CNSN,s=QUJDRA==,i=4096,x=ext", "r=CNSN,s=QUJDRA==,i=4096,i=4096", "m=ext,r=CNSN,s=QUJDRA==,i=4096",
        "r=CN,s=QUJDRA==,i=4096", "r=XXSN,s=QUJDRA==,i=4096", "r=C,s=QUJDRA==,i=4096",
        "r=,s=QUJDRA==,i=4096", "r=CN SN,s=QUJDRA==,i=4096", "r=CNS\u00e9,s=QUJDRA==,i=4096",
        "e=other-error", "v=AAAA", "r=CNSN,s=QUJDRA==,i=4096\u0000"
    })
    void malformedServerFirstIsRejected(String message) throws Exception {
        ScramClientExchange client = fresh();
        assertThrows(AuthenticationFailedException.class, () -> client.clientFinal(message.getBytes(UTF_8)));
        assertFalse(client.isComplete());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "v=", "v=!!!!", "v=AAAA", "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "e=invalid-proof", "e=", "x=1", "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,x=1", "m=1,v=AAAA",
        "r=CNSN,s=QUJDRA==,i=1"
    })
    void malformedOrWrongServerFinalIsRejected(String message) throws Exception {
        ScramClientExchange client = afterFinal();
        assertThrows(AuthenticationFailedException.class, () -> client.verifyServerFinal(message.getBytes(UTF_8)));
        assertFalse(client.isComplete());
    }

    @Test
    void overlongNonUtf8AndNullAreRejected() throws Exception {
        byte[][] inputs = {
            null,
            {(byte) 0xC3, 0x28},
            ("r=CNSN,s=QUJDRA==,i=1" + ",x=" + "a".repeat(2100)).getBytes(UTF_8),
            ("r=CN" + "S".repeat(2048) + ",s=QUJDRA==,i=1").getBytes(UTF_8),
        };
        for (byte[] input : inputs) {
            assertThrows(AuthenticationFailedException.class, () -> fresh().clientFinal(input));
            assertThrows(AuthenticationFailedException.class, () -> afterFinal().verifyServerFinal(input));
        }
    }

    @Test
    void serverErrorTextIsSanitized() throws Exception {
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> afterFinal().verifyServerFinal("e=bad\r\nFAKE LOG LINE".getBytes(UTF_8)));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("bad"), e.getMessage());
    }

    @Test
    void outOfOrderCallsAreRejected() throws Exception {
        ScramClientExchange client = fresh();
        assertThrows(AuthenticationFailedException.class,
                () -> client.verifyServerFinal("v=AAAA".getBytes(UTF_8)));
        ScramClientExchange done = afterFinal();
        assertThrows(AuthenticationFailedException.class,
                () -> done.clientFinal("r=CNSN,s=QUJDRA==,i=1".getBytes(UTF_8)));
    }

    @Test
    void randomBytesNeverEscapeAsUncheckedExceptions() {
        Random random = new Random(1234);
        for (int i = 0; i < 3000; i++) {
            byte[] junk = new byte[random.nextInt(i % 10 == 0 ? 3000 : 64)];
            random.nextBytes(junk);
            ScramServerMalformedInputTest.assertNoUncheckedException(() -> fresh().clientFinal(junk));
            ScramServerMalformedInputTest.assertNoUncheckedException(() -> afterFinal().verifyServerFinal(junk));
        }
    }

    @Test
    void mutatedServerFirstNeverEscapesAsUncheckedException() {
        Random random = new Random(99);
        byte[] valid = "r=CNSN,s=QUJDRA==,i=1".getBytes(UTF_8);
        for (int i = 0; i < 3000; i++) {
            byte[] mutated = ScramServerMalformedInputTest.mutate(valid, random, ",=rsiemv-+90 ");
            ScramServerMalformedInputTest.assertNoUncheckedException(() -> fresh().clientFinal(mutated));
        }
        for (int len = 0; len <= valid.length; len++) {
            byte[] truncated = java.util.Arrays.copyOf(valid, len);
            ScramServerMalformedInputTest.assertNoUncheckedException(() -> fresh().clientFinal(truncated));
        }
    }
}

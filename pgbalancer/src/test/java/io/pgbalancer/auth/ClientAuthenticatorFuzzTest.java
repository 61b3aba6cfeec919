// purpose: fuzzes the client authentication exchange (trust, md5, SCRAM) one password message at a time
package io.pgbalancer.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.config.AuthMethod;
import io.pgbalancer.config.User;
import io.pgbalancer.fuzz.Fuzz;
import io.pgbalancer.fuzz.Msg;
import io.pgbalancer.fuzz.Mutate;
import io.pgbalancer.fuzz.ScramLogin;
import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.protocol.auth.AuthenticationFailedException;
import io.pgbalancer.protocol.auth.Md5Password;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Each input: a method and a user (known, known without a password, unknown), the request the authenticator begins
 * with, then up to three 'p' messages, each the honest answer or a corrupted one, placed in a buffer with bytes after
 * it. Contract: a step returns or throws AuthenticationFailedException or ProtocolException; the exchange completes
 * only for a known user with a password, every message the honest one; each reply buffer is released.
 */
@Tag("fuzz")
class ClientAuthenticatorFuzzTest {
    private static final String PASSWORD = "secret";
    private static final UserDirectory USERS = new UserDirectory(List.of(new User("app", PASSWORD),
            new User("nopass", null)));

    @Test
    void passwordMessages() {
        Fuzz.run("ClientAuthenticator", 1.0, c -> {
            AuthMethod method = c.pick(AuthMethod.values());
            String user = c.pick("app", "app", "nopass", "ghost");
            ClientAuthenticator auth = new ClientAuthenticator(method, user, USERS);
            ClientAuthenticator.Step step;
            try {
                step = auth.begin(c.alloc());
            } catch (AuthenticationFailedException e) {
                assertEquals(AuthMethod.TRUST, method);
                c.outcome("refused at begin");
                return;
            }
            byte[] request = bytes(step.reply());
            if (step.done()) {
                assertEquals(AuthMethod.TRUST, method);
                assertTrue(user.equals("app") || user.equals("nopass"), "trust let an unknown user in");
                c.outcome("trusted");
                return;
            }
            boolean honest = true;
            ScramLogin scram = new ScramLogin(PASSWORD, "fuzz" + c.index);
            for (int n = 0; n < 3; n++) {
                Msg answer = switch (n) {
                    case 0 -> method == AuthMethod.MD5
                            ? Msg.typed('p').cstr(Md5Password.encode(user, PASSWORD, Arrays.copyOfRange(request, 9, 13))).done()
                            : Msg.typed('p').cstr("SCRAM-SHA-256").lengthField(scram.clientFirst().length)
                                    .raw(scram.clientFirst()).done();
                    default -> {
                        byte[] fin = scram.clientFinal(new String(request, 9, request.length - 9, StandardCharsets.UTF_8));
                        yield Msg.typed('p').raw(fin == null ? new byte[0] : fin).done();
                    }
                };
                byte[] sent = answer.bytes();
                if (c.chance(0.3)) {
                    sent = Mutate.mutate(c.random, answer);
                }
                if (sent.length < 5) {
                    sent = Arrays.copyOf(sent, 5);
                }
                sent[0] = 'p';
                Mutate.setInt(sent, 1, sent.length - 1); // the scanner only hands over frames with a right length
                honest &= Arrays.equals(sent, answer.bytes());
                c.input("p", sent);
                ByteBuf buf = c.alloc().buffer();
                buf.writeBytes(Mutate.random(c.random, c.between(0, 3)));
                int at = buf.writerIndex();
                buf.writeBytes(sent).writeBytes(Mutate.random(c.random, c.between(0, 8)));
                try {
                    step = auth.onPasswordMessage(c.alloc(), buf, at, sent.length);
                } catch (AuthenticationFailedException | ProtocolException e) {
                    c.outcome(e.getClass().getSimpleName());
                    return;
                } finally {
                    buf.release();
                }
                request = bytes(step.reply());
                if (step.done()) {
                    assertTrue(honest && user.equals("app"), "authenticated without the right password: user " + user);
                    c.outcome("authenticated");
                    return;
                }
            }
            c.outcome("unfinished");
        });
    }

    /** The reply's bytes; releases it. */
    private static byte[] bytes(ByteBuf reply) {
        try {
            byte[] out = new byte[reply.readableBytes()];
            reply.readBytes(out);
            return out;
        } finally {
            reply.release();
        }
    }
}

// Runs the client-facing authentication exchange (SCRAM-SHA-256, MD5 or trust) one password message at a time.
package io.pgbalancer.auth;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgbalancer.config.AuthMethod;
import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.protocol.auth.AuthenticationFailedException;
import io.pgbalancer.protocol.auth.Md5Password;
import io.pgbalancer.protocol.auth.ScramServerExchange;

public final class ClientAuthenticator {
    /** What to do after a step: send {@code reply} (may be null) and, when {@code done}, the client is in. */
    public record Step(ByteBuf reply, boolean done) {
    }

    private final AuthMethod method;
    private final String user;
    private final UserDirectory.Entry entry;
    private final UserDirectory users;
    /** The TLS certificate's tls-server-end-point data when the client uses TLS (SCRAM-SHA-256-PLUS), else null. */
    private final byte[] channelBinding;
    private byte[] md5Salt;
    private ScramServerExchange scram;
    private int step;

    public ClientAuthenticator(AuthMethod method, String user, UserDirectory users) {
        this(method, user, users, null);
    }

    public ClientAuthenticator(AuthMethod method, String user, UserDirectory users, byte[] channelBinding) {
        this.channelBinding = channelBinding;
        this.method = method;
        this.user = user;
        this.users = users;
        this.entry = users.find(user);
    }

    /** The first message: an authentication request, or AuthenticationOk for trust. */
    public Step begin(ByteBufAllocator alloc) throws AuthenticationFailedException {
        switch (method) {
            case TRUST -> {
                if (entry == null) {
                    throw failed();
                }
                return new Step(ServerMessages.authOk(alloc), true);
            }
            case MD5 -> {
                md5Salt = Md5Password.randomSalt();
                return new Step(ServerMessages.authMd5(alloc, md5Salt), false);
            }
            default -> {
                scram = new ScramServerExchange(entry != null && entry.scram() != null ? entry.scram()
                        : users.decoy(user), channelBinding);
                return new Step(ServerMessages.authSasl(alloc, scram.mechanisms()), false);
            }
        }
    }

    /** Handles a PasswordMessage / SASLInitialResponse / SASLResponse ('p') starting at {@code at}. */
    public Step onPasswordMessage(ByteBufAllocator alloc, ByteBuf buf, int at, int length)
            throws AuthenticationFailedException {
        int end = at + length;
        int body = at + 5;
        if (method == AuthMethod.MD5) {
            String response = Wire.readCString(buf, body, end, "password message");
            if (Wire.endOfCString(buf, body, end, "password message") != end) {
                throw new ProtocolException("invalid password packet size"); // bytes after the string: as PostgreSQL
            }
            if (entry == null || entry.password() == null
                    || !Md5Password.verify(user, entry.password(), md5Salt, response)) {
                throw failed();
            }
            return new Step(ServerMessages.authOk(alloc), true);
        }
        if (step++ == 0) {
            String mechanism = Wire.readCString(buf, body, end, "SASLInitialResponse mechanism");
            int dataAt = Wire.endOfCString(buf, body, end, "SASLInitialResponse mechanism");
            if (end - dataAt < 4) {
                throw new AuthenticationFailedException("SASLInitialResponse is truncated");
            }
            int len = buf.getInt(dataAt);
            if (len < 0 || len != end - dataAt - 4) {
                throw new AuthenticationFailedException("SASLInitialResponse data length " + len + " (expected: "
                        + (end - dataAt - 4) + ")");
            }
            return new Step(ServerMessages.authSaslContinue(alloc, scram.serverFirst(mechanism,
                    bytes(buf, dataAt + 4, end))),
                    false);
        }
        byte[] serverFinal;
        try {
            serverFinal = scram.serverFinal(bytes(buf, body, end));
        } catch (AuthenticationFailedException e) {
            throw failed();
        }
        if (entry == null) {
            throw failed();
        }
        ByteBuf reply = ServerMessages.authSaslFinal(alloc, serverFinal);
        ByteBuf ok = ServerMessages.authOk(alloc);
        reply.writeBytes(ok);
        ok.release();
        return new Step(reply, true);
    }

    /** The same answer for a wrong password and an unknown user. */
    public AuthenticationFailedException failed() {
        return new AuthenticationFailedException("password authentication failed for user \"" + user + "\"");
    }

    private static byte[] bytes(ByteBuf buf, int from, int to) {
        byte[] out = new byte[to - from];
        buf.getBytes(from, out);
        return out;
    }
}

// Answers a backend's authentication requests (trust, cleartext, MD5, SCRAM-SHA-256) during login.
package io.pgbalancer.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.protocol.auth.AuthenticationFailedException;
import io.pgbalancer.protocol.auth.Md5Password;
import io.pgbalancer.protocol.auth.ScramClientExchange;
import java.util.ArrayList;
import java.util.List;

final class BackendLogin {
    private final String user;
    private final String password;
    private ScramClientExchange scram;
    /** The server certificate's tls-server-end-point data once TLS is up (SCRAM-SHA-256-PLUS), else null. */
    private byte[] channelBinding;

    BackendLogin(String user, String password) {
        this.user = user;
        this.password = password;
    }

    /** Called when the connection has switched to TLS, before the startup packet. */
    void channelBinding(byte[] endPoint) {
        this.channelBinding = endPoint;
    }

    /** Handles an AuthenticationXXX message; returns the reply to send, or null when none is due. */
    ByteBuf onAuthRequest(ByteBufAllocator alloc, ByteBuf buf, int start, int length) throws AuthenticationFailedException {
        int code = buf.getInt(start + 5);
        int body = start + 9;
        int end = start + length;
        switch (code) {
            case 0:
                if (scram != null && !scram.isComplete()) {
                    // a server that skips SASLFinal never proved it knows the password
                    throw new AuthenticationFailedException("server ended SCRAM authentication without proving it"
                            + " knows the password");
                }
                return null;
            case 3:
                return ClientMessages.password(alloc, requirePassword("cleartext password"));
            case 5: {
                byte[] salt = new byte[4];
                buf.getBytes(body, salt);
                return ClientMessages.password(alloc, Md5Password.encode(user, requirePassword("MD5"), salt));
            }
            case 10: {
                List<String> mechanisms = new ArrayList<>();
                int at = body;
                while (at < end && buf.getByte(at) != 0) {
                    String m = Wire.readCString(buf, at, end, "SASL mechanism");
                    mechanisms.add(m);
                    at = Wire.endOfCString(buf, at, end, "SASL mechanism");
                }
                scram = new ScramClientExchange(requirePassword("SCRAM-SHA-256"), mechanisms, channelBinding);
                return ClientMessages.saslInitialResponse(alloc, scram.mechanism(), scram.clientFirst());
            }
            case 11:
                return ClientMessages.saslResponse(alloc, scram().clientFinal(bytes(buf, body, end)));
            case 12:
                scram().verifyServerFinal(bytes(buf, body, end));
                return null;
            default:
                throw new AuthenticationFailedException("server asked for an unsupported authentication method (code "
                        + code + "); supported: trust, password, md5, scram-sha-256");
        }
    }

    private ScramClientExchange scram() throws AuthenticationFailedException {
        if (scram == null) {
            throw new AuthenticationFailedException("server sent a SASL continuation before starting SASL");
        }
        return scram;
    }

    private String requirePassword(String method) throws AuthenticationFailedException {
        if (password == null) {
            throw new AuthenticationFailedException("server asked for " + method + " authentication but user "
                    + user + " has no password in the configuration");
        }
        return password;
    }

    private static byte[] bytes(ByteBuf buf, int from, int to) {
        byte[] out = new byte[to - from];
        buf.getBytes(from, out);
        return out;
    }
}

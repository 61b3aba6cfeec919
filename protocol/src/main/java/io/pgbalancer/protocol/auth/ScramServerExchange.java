// purpose: server side of one SCRAM-SHA-256 login (the proxy authenticating a client), RFC 5802 / RFC 7677
package io.pgbalancer.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * One instance per login attempt; not thread-safe (it lives on the connection's event loop).
 * Takes and returns SASL payloads only, framing belongs to the codec.
 *
 * <p>Only plain SCRAM-SHA-256 is offered: the proxy terminates TLS itself, so there is no channel to bind
 * the client to and -PLUS is never advertised. Any failure moves the exchange to a terminal state so a
 * client cannot retry proofs against the same nonce.
 */
public final class ScramServerExchange {
    private enum State { AWAITING_CLIENT_FIRST, AWAITING_CLIENT_FINAL, SUCCEEDED, FAILED }

    private final ScramCredentials credentials;
    private final String serverNonce;
    private State state = State.AWAITING_CLIENT_FIRST;
    private String expectedChannelBinding;
    private String combinedNonce;
    private String clientFirstBare;
    private String serverFirst;

    public ScramServerExchange(ScramCredentials credentials) {
        this(credentials, ScramCrypto.randomNonce());
    }

    /** Fixed nonce for test vectors; production code must use the random-nonce constructor. */
    ScramServerExchange(ScramCredentials credentials, String serverNonce) {
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        if (!ScramMessages.isPrintableNonce(Objects.requireNonNull(serverNonce, "serverNonce"))) {
            throw new IllegalArgumentException("server nonce must be non-empty printable ASCII without ','");
        }
        this.serverNonce = serverNonce;
    }

    public String mechanism() {
        return ScramCrypto.MECHANISM;
    }

    /** Consumes the client-first-message (SASLInitialResponse data) and returns the server-first-message. */
    public byte[] serverFirst(byte[] clientFirstMessage) throws AuthenticationFailedException {
        expectState(State.AWAITING_CLIENT_FIRST, "client-first-message");
        try {
            String message = ScramMessages.decodeUtf8(clientFirstMessage, "client-first-message");
            int headerEnd = parseGs2Header(message);
            String bare = message.substring(headerEnd);
            // n= is ignored like PostgreSQL does: the role comes from the startup packet.
            String[] attrs = ScramMessages.attributes(bare, "client-first-message", 'n', 'r');
            ScramMessages.requireNonce(attrs[1], "client nonce");

            expectedChannelBinding = ScramCrypto.base64(
                    message.substring(0, headerEnd).getBytes(StandardCharsets.US_ASCII));
            combinedNonce = attrs[1] + serverNonce;
            clientFirstBare = bare;
            serverFirst = "r=" + combinedNonce
                    + ",s=" + ScramCrypto.base64(credentials.salt())
                    + ",i=" + credentials.iterations();
            state = State.AWAITING_CLIENT_FINAL;
            return serverFirst.getBytes(StandardCharsets.US_ASCII);
        } catch (AuthenticationFailedException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /**
     * Consumes the client-final-message (SASLResponse data), verifies the proof and returns the
     * server-final-message to send in AuthenticationSASLFinal. Returning normally means the client proved
     * knowledge of the password.
     */
    public byte[] serverFinal(byte[] clientFinalMessage) throws AuthenticationFailedException {
        expectState(State.AWAITING_CLIENT_FINAL, "client-final-message");
        try {
            String message = ScramMessages.decodeUtf8(clientFinalMessage, "client-final-message");
            String[] attrs = ScramMessages.attributes(message, "client-final-message", 'c', 'r', 'p');
            if (!attrs[0].equals(expectedChannelBinding)) {
                throw new AuthenticationFailedException("channel binding (c=) does not match the GS2 header");
            }
            if (!attrs[1].equals(combinedNonce)) {
                throw new AuthenticationFailedException("nonce (r=) does not match the server-first-message");
            }
            byte[] proof = ScramMessages.base64(attrs[2], "client proof");
            if (proof.length != ScramCrypto.KEY_LENGTH) {
                throw new MalformedAuthMessageException("client proof has the wrong length");
            }
            String withoutProof = message.substring(0, message.lastIndexOf(",p="));
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
                    .getBytes(StandardCharsets.UTF_8);

            byte[] storedKey = credentials.storedKey();
            byte[] clientKey = ScramCrypto.xor(proof, ScramCrypto.hmac(storedKey, authMessage));
            if (!MessageDigest.isEqual(ScramCrypto.sha256(clientKey), storedKey)) {
                throw new AuthenticationFailedException("client proof is invalid (wrong password)");
            }
            byte[] serverSignature = ScramCrypto.hmac(credentials.serverKey(), authMessage);
            state = State.SUCCEEDED;
            return ("v=" + ScramCrypto.base64(serverSignature)).getBytes(StandardCharsets.US_ASCII);
        } catch (AuthenticationFailedException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** True once {@link #serverFinal} accepted the client's proof. */
    public boolean isComplete() {
        return state == State.SUCCEEDED;
    }

    /** Returns the index just past the GS2 header ("n,," or "y,,"), rejecting everything else. */
    private static int parseGs2Header(String message) throws AuthenticationFailedException {
        int flagEnd = message.indexOf(',');
        int authzEnd = flagEnd < 0 ? -1 : message.indexOf(',', flagEnd + 1);
        if (authzEnd < 0) {
            throw new MalformedAuthMessageException("client-first-message has no GS2 header");
        }
        String flag = message.substring(0, flagEnd);
        if (flag.startsWith("p=")) {
            throw new AuthenticationFailedException(
                    "client requires channel binding (p=) but SCRAM-SHA-256-PLUS was not offered");
        }
        // "y": the client could bind but believes we cannot. True, since we never offer -PLUS, so no downgrade.
        if (!flag.equals("n") && !flag.equals("y")) {
            throw new MalformedAuthMessageException("client-first-message has an invalid channel-binding flag");
        }
        String authzid = message.substring(flagEnd + 1, authzEnd);
        if (authzid.startsWith("a=")) {
            throw new AuthenticationFailedException("authorization identity (a=) is not supported");
        }
        if (!authzid.isEmpty()) {
            throw new MalformedAuthMessageException("client-first-message has an invalid authzid field");
        }
        return authzEnd + 1;
    }

    private void expectState(State expected, String what) throws AuthenticationFailedException {
        if (state != expected) {
            State was = state;
            state = State.FAILED;
            throw new AuthenticationFailedException("unexpected " + what + " in state " + was);
        }
    }
}

// purpose: server side of one SCRAM-SHA-256 login (the proxy authenticating a client), RFC 5802 / RFC 7677
package io.pgbalancer.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * One instance per login attempt; not thread-safe (it lives on the connection's event loop).
 * Takes and returns SASL payloads only, framing belongs to the codec.
 *
 * <p>Over TLS (a channel binding given) SCRAM-SHA-256-PLUS is offered beside SCRAM-SHA-256, binding the login to
 * the proxy's certificate (tls-server-end-point); without TLS only SCRAM-SHA-256. Any failure moves the exchange to
 * a terminal state so a client cannot retry proofs against the same nonce.
 */
public final class ScramServerExchange {
    private enum State { AWAITING_CLIENT_FIRST, AWAITING_CLIENT_FINAL, SUCCEEDED, FAILED }

    private final ScramCredentials credentials;
    private final String serverNonce;
    /** tls-server-end-point data of this connection's certificate, or null without TLS. */
    private final byte[] channelBinding;
    private State state = State.AWAITING_CLIENT_FIRST;
    private String expectedChannelBinding;
    private String combinedNonce;
    private String clientFirstBare;
    private String serverFirst;

    public ScramServerExchange(ScramCredentials credentials) {
        this(credentials, ScramCrypto.randomNonce(), null);
    }

    /** @param channelBinding the TLS certificate's {@link TlsServerEndPoint} data, or null without TLS */
    public ScramServerExchange(ScramCredentials credentials, byte[] channelBinding) {
        this(credentials, ScramCrypto.randomNonce(), channelBinding);
    }

    /** Fixed nonce for test vectors; production code must use the random-nonce constructor. */
    ScramServerExchange(ScramCredentials credentials, String serverNonce) {
        this(credentials, serverNonce, null);
    }

    ScramServerExchange(ScramCredentials credentials, String serverNonce, byte[] channelBinding) {
        this.channelBinding = channelBinding == null ? null : channelBinding.clone();
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        if (!ScramMessages.isPrintableNonce(Objects.requireNonNull(serverNonce, "serverNonce"))) {
            throw new IllegalArgumentException("server nonce must be non-empty printable ASCII without ','");
        }
        this.serverNonce = serverNonce;
    }

    /** SCRAM-SHA-256 (the mechanism without channel binding). */
    public String mechanism() {
        return ScramCrypto.MECHANISM;
    }

    /** The mechanisms to advertise, the channel-binding one first (clients take the first they support). */
    public java.util.List<String> mechanisms() {
        return channelBinding == null ? java.util.List.of(ScramCrypto.MECHANISM)
                : java.util.List.of(ScramCrypto.MECHANISM_PLUS, ScramCrypto.MECHANISM);
    }

    /** Consumes a SCRAM-SHA-256 client-first-message and returns the server-first-message. */
    public byte[] serverFirst(byte[] clientFirstMessage) throws AuthenticationFailedException {
        return serverFirst(ScramCrypto.MECHANISM, clientFirstMessage);
    }

    /**
     * Consumes the client-first-message (SASLInitialResponse data) for the mechanism the client selected, one of
     * {@link #mechanisms()}, and returns the server-first-message.
     */
    public byte[] serverFirst(String mechanism, byte[] clientFirstMessage) throws AuthenticationFailedException {
        expectState(State.AWAITING_CLIENT_FIRST, "client-first-message");
        try {
            if (!mechanisms().contains(mechanism)) {
                throw new AuthenticationFailedException("client selected SASL mechanism \""
                        + ScramMessages.sanitize(mechanism, 64) + "\" (expected one of " + mechanisms() + ")");
            }
            boolean plus = mechanism.equals(ScramCrypto.MECHANISM_PLUS);
            String message = ScramMessages.decodeUtf8(clientFirstMessage, "client-first-message");
            int headerEnd = parseGs2Header(message, plus);
            String bare = message.substring(headerEnd);
            // n= is ignored like PostgreSQL does: the role comes from the startup packet.
            String[] attrs = ScramMessages.attributes(bare, "client-first-message", 'n', 'r');
            ScramMessages.requireNonce(attrs[1], "client nonce");

            byte[] header = message.substring(0, headerEnd).getBytes(StandardCharsets.US_ASCII);
            if (plus) {
                byte[] input = java.util.Arrays.copyOf(header, header.length + channelBinding.length);
                System.arraycopy(channelBinding, 0, input, header.length, channelBinding.length);
                header = input;
            }
            expectedChannelBinding = ScramCrypto.base64(header);
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
                throw new AuthenticationFailedException(channelBinding != null && expectedChannelBinding.length() > 8
                        ? "SCRAM channel binding check failed (c= does not match this connection's certificate)"
                        : "channel binding (c=) does not match the GS2 header");
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

    /**
     * Returns the index just past the GS2 header ("n,,", "y,," or, with -PLUS, "p=tls-server-end-point,,"),
     * rejecting everything else, as PostgreSQL does.
     */
    private int parseGs2Header(String message, boolean plus) throws AuthenticationFailedException {
        int flagEnd = message.indexOf(',');
        int authzEnd = flagEnd < 0 ? -1 : message.indexOf(',', flagEnd + 1);
        if (authzEnd < 0) {
            throw new MalformedAuthMessageException("client-first-message has no GS2 header");
        }
        String flag = message.substring(0, flagEnd);
        if (flag.startsWith("p=")) {
            if (channelBinding == null) {
                throw new AuthenticationFailedException(
                        "client requires channel binding (p=) but SCRAM-SHA-256-PLUS was not offered"
                                + " (the connection does not use TLS)");
            }
            if (!plus) {
                throw new AuthenticationFailedException("client selected SCRAM-SHA-256 without channel binding,"
                        + " but its SCRAM message includes channel binding data");
            }
            if (!flag.equals("p=" + TlsServerEndPoint.NAME)) {
                throw new AuthenticationFailedException("unsupported SCRAM channel-binding type \""
                        + ScramMessages.sanitize(flag.substring(2), 64) + "\" (supported: "
                        + TlsServerEndPoint.NAME + ")");
            }
        } else if (plus) {
            throw new AuthenticationFailedException("client selected SCRAM-SHA-256-PLUS, but its SCRAM message"
                    + " does not include channel binding data");
        } else if (flag.equals("y") && channelBinding != null) {
            // the client could bind and thinks we cannot, yet we offered -PLUS: someone stripped it on the way
            throw new AuthenticationFailedException("SCRAM channel binding negotiation error: the client supports"
                    + " channel binding but thinks the server does not, and this server does (downgrade?)");
        } else if (!flag.equals("n") && !flag.equals("y")) {
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

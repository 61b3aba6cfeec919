// purpose: client side of one SCRAM-SHA-256 login (the proxy authenticating to a PostgreSQL backend)
package io.pgbalancer.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One instance per backend login; not thread-safe. Takes and returns SASL payloads only.
 *
 * <p>The caller must not treat the backend as authenticated on AuthenticationOk unless
 * {@link #isComplete()} is true: a malicious or spoofed server could otherwise skip SASLFinal and never
 * prove it knows the verifier.
 */
public final class ScramClientExchange {
    /** PostgreSQL's default is 4096; the cap keeps a hostile server from pinning a CPU for minutes. */
    public static final int MAX_ITERATIONS = 10_000_000;

    private enum State { INITIAL, AWAITING_SERVER_FIRST, AWAITING_SERVER_FINAL, SUCCEEDED, FAILED }

    private final String password;
    private final String mechanism;
    private final String gs2Header;
    /** What c= carries: the GS2 header, followed by the channel binding data when binding (-PLUS). */
    private final byte[] channelBindingInput;
    private final String clientNonce;
    private final String clientFirstBare;
    private State state = State.INITIAL;
    private byte[] expectedServerSignature;

    /** Checks SCRAM-SHA-256 is offered (servers offer -PLUS only beside it, and only over TLS). */
    public static String chooseMechanism(List<String> offered) throws AuthenticationFailedException {
        Objects.requireNonNull(offered, "offered");
        if (offered.contains(ScramCrypto.MECHANISM)) {
            return ScramCrypto.MECHANISM;
        }
        String list = offered.stream()
                .map(m -> m == null ? "null" : ScramMessages.sanitize(m, 64))
                .limit(16)
                .collect(Collectors.joining(", ", "[", "]"));
        throw new AuthenticationFailedException(
                "server offered no supported SASL mechanism (need SCRAM-SHA-256), offered: " + list);
    }

    /** A login over a connection without TLS: no channel binding ("n"). */
    public ScramClientExchange(String password, List<String> offeredMechanisms) throws AuthenticationFailedException {
        this(password, offeredMechanisms, null);
    }

    /**
     * @param channelBinding the server certificate's tls-server-end-point hash when the connection uses TLS, else
     *     null. Over TLS the exchange binds to the channel (SCRAM-SHA-256-PLUS) when the server offers it, and
     *     otherwise says "y" (could bind, the server seems unable), so a server that did offer -PLUS, stripped by a
     *     man in the middle, detects the downgrade.
     */
    public ScramClientExchange(String password, List<String> offeredMechanisms, byte[] channelBinding)
            throws AuthenticationFailedException {
        this(password, offeredMechanisms, ScramCrypto.randomNonce(), "", channelBinding);
    }

    /** Fixed nonce and username for test vectors; PostgreSQL clients send an empty username. */
    ScramClientExchange(String password, List<String> offeredMechanisms, String clientNonce, String username)
            throws AuthenticationFailedException {
        this(password, offeredMechanisms, clientNonce, username, null);
    }

    private ScramClientExchange(String password, List<String> offeredMechanisms, String clientNonce, String username,
                                byte[] channelBinding) throws AuthenticationFailedException {
        this.password = Objects.requireNonNull(password, "password");
        chooseMechanism(offeredMechanisms);
        if (!ScramMessages.isPrintableNonce(Objects.requireNonNull(clientNonce, "clientNonce"))) {
            throw new IllegalArgumentException("client nonce must be non-empty printable ASCII without ','");
        }
        this.clientNonce = clientNonce;
        byte[] binding = null;
        if (channelBinding == null) {
            this.mechanism = ScramCrypto.MECHANISM;
            this.gs2Header = "n,,";
        } else if (offeredMechanisms.contains(ScramCrypto.MECHANISM_PLUS)) {
            this.mechanism = ScramCrypto.MECHANISM_PLUS;
            this.gs2Header = "p=" + TlsServerEndPoint.NAME + ",,";
            binding = channelBinding;
        } else {
            this.mechanism = ScramCrypto.MECHANISM;
            this.gs2Header = "y,,";
        }
        byte[] header = gs2Header.getBytes(StandardCharsets.US_ASCII);
        this.channelBindingInput = binding == null ? header : concat(header, binding);
        this.clientFirstBare = "n=" + escapeSaslName(Objects.requireNonNull(username, "username")) + ",r=" + clientNonce;
    }

    /** SCRAM-SHA-256, or SCRAM-SHA-256-PLUS when binding to the TLS channel. */
    public String mechanism() {
        return mechanism;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The SASLInitialResponse payload. */
    public byte[] clientFirst() {
        if (state == State.INITIAL) {
            state = State.AWAITING_SERVER_FIRST;
        }
        return (gs2Header + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /** Consumes AuthenticationSASLContinue data and returns the SASLResponse payload. */
    public byte[] clientFinal(byte[] serverFirstMessage) throws AuthenticationFailedException {
        expectState(State.AWAITING_SERVER_FIRST, "server-first-message");
        try {
            String message = ScramMessages.decodeUtf8(serverFirstMessage, "server-first-message");
            rejectServerError(message);
            String[] attrs = ScramMessages.attributes(message, "server-first-message", 'r', 's', 'i');
            String nonce = attrs[0];
            ScramMessages.requireNonce(nonce, "server nonce");
            if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
                throw new AuthenticationFailedException("server nonce does not extend the client nonce");
            }
            byte[] salt = ScramMessages.base64(attrs[1], "salt");
            int iterations = ScramMessages.iterations(attrs[2], MAX_ITERATIONS, "iteration count");

            String withoutProof = "c=" + ScramCrypto.base64(channelBindingInput)
                    + ",r=" + nonce;
            byte[] authMessage = (clientFirstBare + "," + message + "," + withoutProof)
                    .getBytes(StandardCharsets.UTF_8);
            byte[] salted = ScramCrypto.saltedPassword(password, salt, iterations);
            byte[] clientKey = ScramCrypto.clientKey(salted);
            byte[] serverKey = ScramCrypto.serverKey(salted);
            byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage));
            expectedServerSignature = ScramCrypto.hmac(serverKey, authMessage);
            Arrays.fill(salted, (byte) 0);
            Arrays.fill(clientKey, (byte) 0);
            Arrays.fill(serverKey, (byte) 0);

            state = State.AWAITING_SERVER_FINAL;
            return (withoutProof + ",p=" + ScramCrypto.base64(proof)).getBytes(StandardCharsets.US_ASCII);
        } catch (AuthenticationFailedException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** Consumes AuthenticationSASLFinal data; returning normally means the server proved it knows our verifier. */
    public void verifyServerFinal(byte[] serverFinalMessage) throws AuthenticationFailedException {
        expectState(State.AWAITING_SERVER_FINAL, "server-final-message");
        try {
            String message = ScramMessages.decodeUtf8(serverFinalMessage, "server-final-message");
            rejectServerError(message);
            String[] attrs = ScramMessages.attributes(message, "server-final-message", 'v');
            byte[] signature = ScramMessages.base64(attrs[0], "server signature");
            if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
                throw new AuthenticationFailedException("server signature is invalid (server does not know the password)");
            }
            state = State.SUCCEEDED;
        } catch (AuthenticationFailedException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** True only after {@link #verifyServerFinal} succeeded. */
    public boolean isComplete() {
        return state == State.SUCCEEDED;
    }

    private static void rejectServerError(String message) throws AuthenticationFailedException {
        if (message.startsWith("e=")) {
            throw new AuthenticationFailedException(
                    "server reported SCRAM error: " + ScramMessages.sanitize(message.substring(2), 200));
        }
    }

    /** RFC 5802 saslname: ',' and '=' must be escaped. */
    private static String escapeSaslName(String name) {
        return name.replace("=", "=3D").replace(",", "=2C");
    }

    private void expectState(State expected, String what) throws AuthenticationFailedException {
        if (state != expected) {
            State was = state;
            state = State.FAILED;
            throw new AuthenticationFailedException("unexpected " + what + " in state " + was);
        }
    }
}

// purpose: checked failure of any authentication step; messages name the failed check, never secrets
package io.pgbalancer.protocol.auth;

/**
 * Thrown when an authentication exchange cannot succeed: wrong password, a protocol violation by the
 * peer, or an unsupported feature request. Checked so that callers on both sides of the proxy are forced
 * to turn it into an ErrorResponse / closed connection instead of letting it escape an event loop.
 *
 * <p>Messages are safe to log and to send to the peer: they describe which check failed and never contain
 * passwords, keys, proofs or raw attacker-supplied input.
 */
public class AuthenticationFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    public AuthenticationFailedException(String message) {
        super(message);
    }

    public AuthenticationFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}

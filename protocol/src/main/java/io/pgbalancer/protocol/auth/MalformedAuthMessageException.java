// purpose: authentication failure caused by a syntactically invalid SASL/SCRAM message
package io.pgbalancer.protocol.auth;

/**
 * A peer sent bytes that are not a valid message for the current step. Separate from a plain
 * {@link AuthenticationFailedException} so callers can count protocol garbage apart from wrong passwords.
 */
public class MalformedAuthMessageException extends AuthenticationFailedException {
    private static final long serialVersionUID = 1L;

    public MalformedAuthMessageException(String message) {
        super(message);
    }

    public MalformedAuthMessageException(String message, Throwable cause) {
        super(message, cause);
    }
}

// A backend refused or failed the login; carries the server's own error when there was one, to pass it through.
package io.pgbalancer.pool;

import io.pgbalancer.protocol.ErrorFields;

public final class BackendLoginException extends Exception {
    private final ErrorFields serverError;

    public BackendLoginException(String message, ErrorFields serverError, Throwable cause) {
        super(message, cause);
        this.serverError = serverError;
    }

    /** The server's ErrorResponse, or null when the failure was local (refused, timeout, auth mismatch). */
    public ErrorFields serverError() {
        return serverError;
    }
}

// A TLS certificate, key or CA that cannot be used, with the file and the reason, for startup and reload errors.
package io.pgbalancer.tls;

public final class TlsSetupException extends RuntimeException {
    public TlsSetupException(String message, Throwable cause) {
        super(message, cause);
    }
}

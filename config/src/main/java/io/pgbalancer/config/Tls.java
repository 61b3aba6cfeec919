// purpose: TLS between clients and pgbalancer (YAML section "tls"): mode, certificate, key, client CA
package io.pgbalancer.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code cert} (PEM certificate chain), {@code key} (PEM private key) and {@code ca} (PEM CA bundle that client
 * certificates must chain to) are absolute paths, or null when not configured. A loaded configuration has cert and
 * key whenever the mode is not disable, both or neither otherwise, and a ca whenever clientAuth is not none.
 */
public record Tls(TlsMode mode, Path cert, Path key, Path ca, ClientAuth clientAuth) {
    /** The mode when the file has a tls section without one. */
    public static final TlsMode DEFAULT_MODE = TlsMode.ALLOW;
    public static final ClientAuth DEFAULT_CLIENT_AUTH = ClientAuth.NONE;

    public Tls {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(clientAuth, "clientAuth");
    }

    /** No TLS towards clients (the file has no tls section). */
    public static Tls disabled() {
        return new Tls(TlsMode.DISABLE, null, null, null, ClientAuth.NONE);
    }

    /** Whether clients may use TLS (mode allow or require). */
    public boolean enabled() {
        return mode != TlsMode.DISABLE;
    }
}

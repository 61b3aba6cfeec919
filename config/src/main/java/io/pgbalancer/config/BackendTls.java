// purpose: TLS between pgbalancer and the PostgreSQL servers (YAML section "backend_tls"), as libpq's sslmode & co
package io.pgbalancer.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Used for pooled and monitor connections alike. {@code ca} (PEM CAs the servers' certificates must chain to),
 * {@code cert} and {@code key} (PEM client certificate and key, sent when a server asks) are absolute paths, or null
 * when not configured. A loaded configuration has a ca whenever the mode verifies, and cert and key both or neither.
 */
public record BackendTls(BackendTlsMode mode, Path ca, Path cert, Path key) {
    public static final BackendTlsMode DEFAULT_MODE = BackendTlsMode.PREFER;

    public BackendTls {
        Objects.requireNonNull(mode, "mode");
    }

    /** prefer, without files: what libpq does by default (the file has no backend_tls section). */
    public static BackendTls defaults() {
        return new BackendTls(DEFAULT_MODE, null, null, null);
    }
}

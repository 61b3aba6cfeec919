// Picks the TLS engine: OpenSSL through netty-tcnative when it loads on this machine, the JDK's otherwise.
package io.pgbalancer.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

public final class SslProviders {
    private SslProviders() {
    }

    /** OpenSSL (BoringSSL from netty-tcnative) when available: faster handshakes and records than the JDK's. */
    public static SslProvider preferred() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** For the startup log: which engine, and why not OpenSSL when it did not load. */
    public static String describe() {
        if (OpenSsl.isAvailable()) {
            return "OpenSSL (" + OpenSsl.versionString() + ", netty-tcnative)";
        }
        Throwable why = OpenSsl.unavailabilityCause();
        return "the JDK's TLS (OpenSSL did not load: " + (why == null ? "unknown" : why.getMessage()) + ")";
    }
}

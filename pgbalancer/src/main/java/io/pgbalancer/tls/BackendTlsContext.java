// The TLS pgbalancer uses towards PostgreSQL servers (config "backend_tls"), with libpq's sslmode meanings.
package io.pgbalancer.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.pgbalancer.config.BackendTls;
import io.pgbalancer.config.BackendTlsMode;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * disable: plaintext. prefer: TLS when the server offers it, plaintext when it answers N. require: TLS, the
 * certificate not checked unless a CA is given (then as verify-ca, like libpq with a root certificate). verify-ca: the
 * chain must lead to the CA. verify-full: and the server's name (or IP) must be in the certificate.
 */
public final class BackendTlsContext {
    /** Plaintext to every server (tests that build pools by hand). */
    public static final BackendTlsContext PLAINTEXT = new BackendTlsContext(BackendTlsMode.DISABLE, null);

    private final BackendTlsMode mode;
    private final SslContext context;

    private BackendTlsContext(BackendTlsMode mode, SslContext context) {
        this.mode = mode;
        this.context = context;
    }

    /** @throws TlsSetupException when the CA, certificate or key cannot be used */
    public static BackendTlsContext of(BackendTls config) {
        if (config.mode() == BackendTlsMode.DISABLE) {
            return PLAINTEXT;
        }
        return new BackendTlsContext(config.mode(), build(config, SslProviders.preferred()));
    }

    /**
     * A Netty client context for the section: CA trust when the mode verifies, a client certificate when given.
     * The monitor's pgjdbc takes the JDK provider's.
     */
    public static SslContext build(BackendTls config, SslProvider provider) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2");
            if (verifiesChain(config)) {
                builder.trustManager(PemFiles.certificates(config.ca(), "backend_tls.ca")
                        .toArray(X509Certificate[]::new));
            } else {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            if (config.cert() != null) {
                List<X509Certificate> chain = PemFiles.certificates(config.cert(), "backend_tls.cert");
                PrivateKey key = PemFiles.privateKey(config.key(), "backend_tls.key");
                PemFiles.checkPair(key, chain.get(0), config.key(), config.cert());
                builder.keyManager(key, chain.toArray(X509Certificate[]::new));
            }
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsSetupException("backend_tls: cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /** verify-ca and verify-full, and require with a CA given (libpq's rule for a present root certificate). */
    static boolean verifiesChain(BackendTls config) {
        return config.mode().verifiesCa() || (config.mode() == BackendTlsMode.REQUIRE && config.ca() != null);
    }

    public BackendTlsMode mode() {
        return mode;
    }

    /** Whether to ask the server for TLS (SSLRequest) at all. */
    public boolean requests() {
        return mode != BackendTlsMode.DISABLE;
    }

    /** Whether a server that answers N (no TLS) is used anyway, in plaintext. */
    public boolean plaintextAllowed() {
        return mode == BackendTlsMode.PREFER;
    }

    /** A handler for one connection to {@code host}; verify-full checks the host against the certificate. */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        SslHandler handler = context.newHandler(alloc, host, port);
        if (mode.verifiesHost()) {
            SSLEngine engine = handler.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        return handler;
    }
}

// Gives the monitor's pgjdbc connections the same TLS as the proxy's own (backend_tls: PEM CA, certificate, key).
package io.pgbalancer.monitor;

import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslProvider;
import io.pgbalancer.config.BackendTls;
import io.pgbalancer.config.BackendTlsMode;
import io.pgbalancer.tls.BackendTlsContext;
import java.nio.file.Path;
import java.util.Properties;
import java.util.function.BiConsumer;
import org.postgresql.ssl.WrappedFactory;

/**
 * pgjdbc instantiates this class by name (sslfactory) with the connection's properties, where {@link #configure}
 * left the backend_tls files. pgjdbc reads PEM certificates but wants keys as DER, so the context is built here
 * from the same files the proxy uses. pgjdbc itself checks the host name for verify-full.
 */
public final class MonitorSslFactory extends WrappedFactory {
    private static final String MODE = "pgbalancer.backend_tls.mode";
    private static final String CA = "pgbalancer.backend_tls.ca";
    private static final String CERT = "pgbalancer.backend_tls.cert";
    private static final String KEY = "pgbalancer.backend_tls.key";

    public MonitorSslFactory(Properties info) {
        BackendTls tls = new BackendTls(BackendTlsMode.valueOf(info.getProperty(MODE)), path(info, CA),
                path(info, CERT), path(info, KEY));
        factory = ((JdkSslContext) BackendTlsContext.build(tls, SslProvider.JDK)).context().getSocketFactory();
    }

    /** Sets pgjdbc's sslmode (and this factory with the files) for a monitor pool. */
    static void configure(BackendTls tls, BiConsumer<String, Object> property) {
        property.accept("sslmode", tls.mode().yamlName());
        if (tls.mode() == BackendTlsMode.DISABLE) {
            return;
        }
        property.accept("sslfactory", MonitorSslFactory.class.getName());
        property.accept(MODE, tls.mode().name());
        if (tls.ca() != null) {
            property.accept(CA, tls.ca().toString());
        }
        if (tls.cert() != null) {
            property.accept(CERT, tls.cert().toString());
            property.accept(KEY, tls.key().toString());
        }
    }

    private static Path path(Properties info, String key) {
        String value = info.getProperty(key);
        return value == null ? null : Path.of(value);
    }
}

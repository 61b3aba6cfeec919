// The TLS clients connect with (config "tls"): built from PEM files, swapped on reload and when the files change.
package io.pgbalancer.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.pgbalancer.config.ClientAuth;
import io.pgbalancer.config.Tls;
import io.pgbalancer.config.TlsMode;
import io.pgbalancer.protocol.auth.TlsServerEndPoint;
import io.pgbalancer.reload.ConfigFileWatcher;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class ClientTls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClientTls.class);
    /** The ALPN protocol name of PostgreSQL (required for direct TLS, sslnegotiation=direct). */
    public static final String ALPN = "postgresql";

    private volatile Tls config;
    /** Null while TLS is disabled. */
    private volatile TlsMaterial material;
    private final List<ConfigFileWatcher> watchers = new ArrayList<>();

    /** @throws TlsSetupException when the certificate, key or CA cannot be used */
    public ClientTls(Tls config) {
        this.config = Objects.requireNonNull(config, "config");
        this.material = load(config);
    }

    /** What new connections get: null when tls.mode is disable. */
    public TlsMaterial current() {
        return material;
    }

    public TlsMode mode() {
        return config.mode();
    }

    /**
     * Loads a reloaded "tls" section; throws, changing nothing, when its files cannot be used. Connections
     * already using TLS keep theirs; new ones get the new certificate.
     */
    public synchronized void apply(Tls next) {
        TlsMaterial loaded = load(next);
        boolean filesChanged = !Objects.equals(next.cert(), config.cert()) || !Objects.equals(next.key(), config.key())
                || !Objects.equals(next.ca(), config.ca());
        config = next;
        material = loaded;
        if (filesChanged && !watchers.isEmpty()) {
            stopWatching();
            watchFiles();
        }
    }

    /**
     * Reloads the certificate, key and CA whenever one of their files changes (a cert-manager renewal, a Secret
     * update): a pair that does not load yet (the certificate written, not the key) keeps the old one until it does.
     */
    public synchronized ClientTls watchFiles() {
        Tls now = config;
        for (Path file : new Path[] {now.cert(), now.key(), now.ca()}) {
            if (file == null || !now.enabled()) {
                continue;
            }
            try {
                watchers.add(new ConfigFileWatcher(file, this::reloadFiles, ConfigFileWatcher.DEBOUNCE).start());
            } catch (IOException e) {
                log.warn("tls: cannot watch {} for changes ({}); reload the configuration to pick up a new one",
                        file, e.getMessage());
            }
        }
        return this;
    }

    private synchronized void reloadFiles() {
        try {
            material = load(config);
            log.info("tls: reloaded certificate {} (subject {}, valid until {})", config.cert(),
                    material.certificate().getSubjectX500Principal().getName(), material.certificate().getNotAfter());
        } catch (TlsSetupException e) {
            log.warn("tls: kept the previous certificate: {}", e.getMessage());
        }
    }

    /** The material for a "tls" section, or null when it is disabled. */
    static TlsMaterial load(Tls tls) {
        if (tls.mode() == TlsMode.DISABLE) {
            return null;
        }
        List<X509Certificate> chain = PemFiles.certificates(tls.cert(), "tls.cert");
        PrivateKey key = PemFiles.privateKey(tls.key(), "tls.key");
        PemFiles.checkPair(key, chain.get(0), tls.key(), tls.cert());
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                    .sslProvider(SslProviders.preferred())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN));
            if (tls.clientAuth() != ClientAuth.NONE) {
                builder.trustManager(PemFiles.certificates(tls.ca(), "tls.ca").toArray(X509Certificate[]::new))
                        .clientAuth(tls.clientAuth() == ClientAuth.REQUIRE ? io.netty.handler.ssl.ClientAuth.REQUIRE
                                : io.netty.handler.ssl.ClientAuth.OPTIONAL);
            }
            SslContext context = builder.build();
            return new TlsMaterial(context, chain.get(0), endPoint(chain.get(0)));
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsSetupException("tls: cannot use certificate " + tls.cert() + " with key " + tls.key() + ": "
                    + e.getMessage(), e);
        }
    }

    private static byte[] endPoint(X509Certificate certificate) {
        try {
            return TlsServerEndPoint.of(certificate);
        } catch (IllegalArgumentException e) {
            log.info("tls: SCRAM-SHA-256-PLUS is not offered: {}", e.getMessage());
            return null;
        }
    }

    private void stopWatching() {
        watchers.forEach(ConfigFileWatcher::close);
        watchers.clear();
    }

    @Override
    public synchronized void close() {
        stopWatching();
    }
}

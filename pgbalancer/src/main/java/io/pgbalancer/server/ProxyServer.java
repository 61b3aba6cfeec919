// Listens for clients and shuts down gracefully: stop accepting, let transactions finish, then close everything.
package io.pgbalancer.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.net.Transport;
import io.pgbalancer.config.Backend;
import io.pgbalancer.config.DnsDiscovery;
import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.discovery.DnsSource;
import io.pgbalancer.discovery.KubernetesSource;
import io.pgbalancer.k8s.PeerBudget;
import io.pgbalancer.k8s.PeerListener;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.discovery.EndpointSource;
import io.pgbalancer.discovery.Resolver;
import io.pgbalancer.discovery.ServerCatalog;
import io.pgbalancer.reload.ConfigFileWatcher;
import java.util.ArrayList;
import java.util.List;
import io.pgbalancer.reload.ConfigReloader;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final PgBalancerConfig config;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ProxyContext context;
    private Channel listener;
    private io.pgbalancer.http.HttpEndpoint httpEndpoint;
    private io.pgbalancer.http.Readiness readiness;
    private io.pgbalancer.monitor.BackendMonitor monitor;
    private final ConfigReloader reloader;
    private ConfigFileWatcher watcher;
    private ServerCatalog catalog;
    private Resolver resolver = Resolver.SYSTEM;
    /** For discovery.kubernetes: null means fabric8's default client (in-cluster, or a kubeconfig). */
    private io.fabric8.kubernetes.client.KubernetesClient kubernetes;
    private String podName = System.getenv(PeerBudget.POD_NAME_ENV);
    private PeerBudget peerBudget;
    /** Reloads and discovery changes apply one at a time. */
    private final Object topologyLock = new Object();
    /** Set under topologyLock at shutdown: no reload or discovery change applies after it. */
    private boolean stopping;

    /** A proxy whose configuration came from memory: RELOAD says there is no file to reload. */
    public ProxyServer(PgBalancerConfig config) {
        this(config, null);
    }

    /** @param file where {@code config} was loaded from: reloaded on SIGHUP, RELOAD and when it changes */
    public ProxyServer(PgBalancerConfig config, Path file) {
        this(config, file, System.getenv());
    }

    /** @param env the ${VAR} values for reloads of {@code file} */
    public ProxyServer(PgBalancerConfig config, Path file, java.util.Map<String, String> env) {
        this.config = config;
        if (!config.discovery().dns().isEmpty()) {
            // before any lookup (the JVM reads these once): its default 30 s cache would follow a headless
            // Service's pods late
            java.security.Security.setProperty("networkaddress.cache.ttl", "1");
            java.security.Security.setProperty("networkaddress.cache.negative.ttl", "1");
        }
        Transport.select(config.listen().transport());
        this.boss = Transport.group(1, "pgbalancer-accept");
        this.workers = Transport.group(config.listen().effectiveIoThreads(), "pgbalancer-io");
        this.context = new ProxyContext(config, workers);
        this.reloader = new ConfigReloader(file, env, context.live(), this::apply);
        context.onShutdownRequest(() -> shutdown(context.config().shutdown().gracePeriod()));
        context.onReloadRequest(reloader::reload);
    }

    /** Applies a validated, reloaded configuration to the pools, the router and the monitor. */
    private void apply(PgBalancerConfig next) {
        synchronized (topologyLock) {
            if (stopping) {
                throw new IllegalStateException("pgbalancer is shutting down");
            }
            List<Backend> servers = catalog == null ? next.backends() : catalog.mergedWith(next.backends());
            context.apply(next, servers); // throws having changed nothing if it cannot apply
            if (catalog != null) {
                catalog.statics(next.backends()); // only once applied: a rejected file leaves nothing behind
            }
            if (monitor != null) {
                monitor.apply(context.sessionServices().router().nodes(), next.monitor(), next.backendTls());
            }
            // in effect before the lock is released: a discovery change applied next must use this configuration
            context.live().set(next);
        }
    }

    /** Discovery found a new list of servers: the router, pools and monitor follow (on the catalog's thread). */
    private void applyServers(List<Backend> servers) {
        synchronized (topologyLock) {
            if (stopping) {
                return; // the servers stay as they are while the drain runs
            }
            PgBalancerConfig now = context.config();
            var change = context.sessionServices().router().apply(servers, now.routing());
            context.pools().retire(change.removed());
            // a server's max_connections (its share of a budget) caps its pools
            context.pools().reconfigure(PoolSettings.from(now.pool()), context.users()::password);
            monitor.apply(context.sessionServices().router().nodes(), now.monitor(), now.backendTls());
            if (!change.isEmpty()) {
                log.info("servers changed: {} added, {} removed (draining): {}", change.added().size(),
                        change.removed().size(), context.sessionServices().router().nodes());
            }
        }
    }

    /**
     * The Kubernetes client for discovery.kubernetes, and this pod's name among its peers (tests use a mock API
     * server); call before {@link #start()}. The caller closes the client after the server.
     */
    public ProxyServer kubernetes(io.fabric8.kubernetes.client.KubernetesClient client, String pod) {
        this.kubernetes = client;
        this.podName = pod;
        return this;
    }

    /** The DNS resolver for discovery.dns (tests feed their own answers); call before {@link #start()}. */
    public ProxyServer resolver(Resolver dns) {
        this.resolver = dns;
        return this;
    }

    /** Reloads the configuration file now (SIGHUP); see {@link ConfigReloader}. */
    public ConfigReloader.Outcome reload(String trigger) {
        return reloader.reload(trigger);
    }

    /**
     * What a SHUTDOWN from the admin console does instead of shutting down at once: the CLI waits for it as for a
     * signal, so the process exits the same way.
     */
    public void onShutdownRequest(Runnable action) {
        context.onShutdownRequest(action);
    }

    /**
     * Shared by all client channels: it holds only its size limits; the per-channel state is in its handles. Up to 16
     * reads per wake-up, as the per-channel default gives epoll, NIO and io_uring socket channels (a new instance's
     * own default is 1, which would cost a COPY or a large pipeline an event-loop turn per buffer).
     */
    static final io.netty.channel.MaxMessagesRecvByteBufAllocator RECV_ALLOCATOR =
            new io.netty.channel.AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16);

    /** Binds the listen address; throws if it is taken. */
    public ProxyServer start() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(Transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                // one allocator for every client (each channel still adapts its own read size): Netty otherwise makes
                // an instance per channel, memory per idle client
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECV_ALLOCATOR)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ClientHandler(context));
                    }
                });
        Transport.configure(b::childOption);
        try {
            listener = b.bind(config.listen().host(), config.listen().port()).sync().channel();
        } catch (Exception e) {
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + config.listen().host() + ":" + config.listen().port()
                    + " (listen): " + e.getMessage(), e);
        }
        var router = context.sessionServices().router();
        synchronized (topologyLock) { // a RELOAD may arrive as soon as the port is bound
            PgBalancerConfig now = context.config();
            monitor = new io.pgbalancer.monitor.BackendMonitor(router.nodes(), now.monitor(), now.backendTls(),
                    router.replayWaits());
            monitor.onRolesChanged(router::refreshRoles);
            monitor.start();
            catalog = new ServerCatalog(now.backends(), sources(config), this::applyServers);
        }
        KubernetesDiscovery k8s = config.discovery().kubernetes();
        if (k8s != null && k8s.peersService() != null && k8s.maxConnections() != null) {
            catalog.shareBudget();
            PeerListener peers = new PeerListener() {
                @Override
                public void peers(int count, int rank) {
                    catalog.peers(count, rank);
                }

                @Override
                public void health(boolean stale, String reason) {
                    catalog.peerHealth(stale ? reason : null);
                }
            };
            peerBudget = kubernetes == null ? PeerBudget.connect(k8s, peers)
                    : PeerBudget.start(kubernetes, k8s, podName, peers);
        }
        readiness = new io.pgbalancer.http.Readiness(router);
        readiness.discovery(catalog::staleness);
        if (config.http().enabled()) {
            var metrics = new io.pgbalancer.metrics.ProxyMetrics(context.sessions(), context.pools(), router,
                    context.sessionServices().events(), reloader, catalog).tls(context.clientTls());
            var liveness = new io.pgbalancer.http.Liveness(java.util.List.of(boss, workers),
                    io.pgbalancer.http.Liveness.DEADLINE);
            httpEndpoint = io.pgbalancer.http.HttpEndpoint.start(config.http().host(), config.http().port(), metrics,
                    liveness, readiness, new io.pgbalancer.http.StatusReport(router, context.sessions(), readiness),
                    boss);
            log.info("HTTP on http://{}:{}/ (status page, /metrics, /health, /ready)", config.http().host(), httpEndpoint.port());
        }
        for (String warning : config.warnings()) {
            log.warn("config: {}", warning);
        }
        if (reloader.file() != null) {
            try {
                watcher = new ConfigFileWatcher(reloader.file(), () -> reloader.reloadIfChanged("file changed"),
                        ConfigFileWatcher.DEBOUNCE).start();
            } catch (java.io.IOException e) {
                log.warn("cannot watch {} for changes ({}); SIGHUP and RELOAD still reload it", reloader.file(),
                        e.getMessage());
            }
        }
        if (context.clientTls().current() != null) {
            context.clientTls().watchFiles();
            log.info("TLS for clients: tls.mode {}, certificate {}, {}", config.tls().mode().yamlName(),
                    config.tls().cert(), io.pgbalancer.tls.SslProviders.describe());
        }
        catalog.start();
        readiness.listening();
        log.info("pgbalancer listening on {} ({} transport, {} io threads, {} pooling, pool size {})", address(), Transport.name(), config.listen().effectiveIoThreads(),
                config.pool().mode().name().toLowerCase(), config.pool().size());
        return this;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Stop accepting; clients idle between transactions close now, the rest when done or when the grace ends. */
    public void shutdown(Duration grace) {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        context.sessions().drainAll(); // first: a client that sees the listener closed finds its idle session closing
        if (readiness != null) {
            readiness.draining(); // /ready says so at once; /health and /metrics answer until the end
        }
        if (watcher != null) {
            watcher.close(); // no reloads while shutting down
        }
        context.clientTls().close();
        synchronized (topologyLock) {
            stopping = true;
        }
        if (catalog != null) {
            catalog.close(); // the servers stay as they are while the drain runs
        }
        if (peerBudget != null) {
            peerBudget.close();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (context.sessions().busyCount() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long left = context.sessions().count();
        if (left > 0) {
            log.info("grace period over: closing {} remaining client connection(s)", left);
        }
        context.sessions().closeAll("terminating connection due to administrator command");
        context.pools().close();
        if (monitor != null) {
            monitor.close();
        }
        if (httpEndpoint != null) {
            httpEndpoint.close();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    /** One source per discovery entry. */
    private List<EndpointSource> sources(PgBalancerConfig config) {
        List<EndpointSource> sources = new ArrayList<>();
        for (DnsDiscovery d : config.discovery().dns()) {
            sources.add(new DnsSource(d, resolver));
        }
        if (config.discovery().kubernetes() != null) {
            sources.add(new KubernetesSource(config.discovery().kubernetes(), kubernetes));
        }
        return sources;
    }

    /** The grace period of the configuration in effect now. */
    public Duration gracePeriod() {
        return context.config().shutdown().gracePeriod();
    }

    @Override
    public void close() {
        shutdown(gracePeriod());
    }
}

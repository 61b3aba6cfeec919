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
import io.pgbalancer.reload.ConfigFileWatcher;
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
        this.boss = Transport.group(1, "pgbalancer-accept");
        this.workers = Transport.group(config.listen().effectiveIoThreads(), "pgbalancer-io");
        this.context = new ProxyContext(config, workers);
        this.reloader = new ConfigReloader(file, env, context.live(), this::apply);
        context.onShutdownRequest(() -> shutdown(context.config().shutdown().gracePeriod()));
        context.onReloadRequest(reloader::reload);
    }

    /** Applies a validated, reloaded configuration to the pools, the router and the monitor. */
    private void apply(PgBalancerConfig next) {
        context.apply(next);
        if (monitor != null) {
            monitor.apply(context.sessionServices().router().nodes(), next.monitor());
        }
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
        monitor = new io.pgbalancer.monitor.BackendMonitor(router.nodes(), config.monitor(), router.replayWaits())
                .start();
        readiness = new io.pgbalancer.http.Readiness(router);
        if (config.http().enabled()) {
            var metrics = new io.pgbalancer.metrics.ProxyMetrics(context.sessions(), context.pools(), router,
                    context.sessionServices().events(), reloader);
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
        if (watcher != null) {
            watcher.close();
        }
        if (readiness != null) {
            readiness.draining(); // /ready says so at once; /health and /metrics answer until the end
        }
        context.sessions().drainAll();
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

    /** The grace period of the configuration in effect now. */
    public Duration gracePeriod() {
        return context.config().shutdown().gracePeriod();
    }

    @Override
    public void close() {
        shutdown(gracePeriod());
    }
}

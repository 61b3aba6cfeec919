// The running proxy's shared parts, built from the configuration and re-aimed by each reload.
package io.pgbalancer.server;

import io.netty.channel.EventLoopGroup;
import io.pgbalancer.auth.UserDirectory;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.Routing;
import io.pgbalancer.config.VolatileFunctions;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.admin.ProxyControl;
import io.pgbalancer.reload.ConfigReloader;
import io.pgbalancer.reload.LiveConfig;
import io.pgbalancer.routing.Router;
import io.pgbalancer.routing.VolatileFunctionCatalog;
import io.pgbalancer.session.PauseGate;
import io.pgbalancer.session.SessionEvents;
import io.pgbalancer.session.SessionServices;
import io.pgbalancer.session.SessionTracker;
import io.pgbalancer.sql.StatementClassifier;
import java.util.HashSet;
import java.util.Set;

final class ProxyContext {
    private static final int CLASSIFICATION_CACHE = 16_384;

    private final LiveConfig live;
    private volatile UserDirectory users;
    private final SessionServices sessionServices;
    private final ConnectionLimits limits = new ConnectionLimits();
    private final io.pgbalancer.tls.ClientTls clientTls;
    private volatile Runnable shutdownRequest = () -> {
    };
    private volatile java.util.function.Function<String, ConfigReloader.Outcome> reloadRequest =
            trigger -> new ConfigReloader.Outcome(false, "reload is not available yet");

    ProxyContext(PgBalancerConfig config, EventLoopGroup workers) {
        this.live = new LiveConfig(config);
        this.users = new UserDirectory(config.auth().users());
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), name -> users.password(name),
                workers);
        this.sessionServices = new SessionServices(live, pools, classifier(config), new CancelRegistry(),
                new SessionTracker(), new Router(config), new SessionEvents(), new PauseGate());
        this.clientTls = new io.pgbalancer.tls.ClientTls(config.tls());
        pools.backendTls(io.pgbalancer.tls.BackendTlsContext.of(config.backendTls()));
    }

    private static StatementClassifier classifier(PgBalancerConfig config) {
        Set<String> writeFunctions = new HashSet<>(config.routing().writeFunctions());
        if (config.routing().volatileFunctions() == VolatileFunctions.PRIMARY) {
            writeFunctions.addAll(VolatileFunctionCatalog.load(config));
        }
        return new StatementClassifier(writeFunctions, CLASSIFICATION_CACHE);
    }

    /**
     * Applies a reloaded configuration: users and passwords, pool settings, the statement classifier when the write
     * or volatile functions changed, TLS on both sides (for new connections), then the servers. Only the classifier
     * (it may read the primary) and the TLS files can fail, and they are loaded first, so a failure changes nothing. Clients stay connected throughout. {@code servers}: the
     * reloaded static backends merged with what discovery found.
     */
    Router.TopologyChange apply(PgBalancerConfig next) {
        return apply(next, next.backends());
    }

    /** {@link #apply(PgBalancerConfig)} with the servers discovery adds to the configured ones. */
    Router.TopologyChange apply(PgBalancerConfig next, java.util.List<io.pgbalancer.config.Backend> servers) {
        Routing before = live.get().routing();
        StatementClassifier classifier = before.writeFunctions().equals(next.routing().writeFunctions())
                && before.volatileFunctions() == next.routing().volatileFunctions() ? null : classifier(next);
        var backendTls = io.pgbalancer.tls.BackendTlsContext.of(next.backendTls());
        clientTls.apply(next.tls());
        UserDirectory nextUsers = new UserDirectory(next.auth().users(), users);
        users = nextUsers;
        if (classifier != null) {
            sessionServices.classifier(classifier);
        }
        // the router first: pools take their cap from their node's max_connections, which it updates
        Router.TopologyChange change = sessionServices.router().apply(servers, next.routing());
        pools().reconfigure(PoolSettings.from(next.pool()), nextUsers::password);
        pools().retire(change.removed());
        pools().backendTls(backendTls);
        return change;
    }

    /** What the admin console's SHUTDOWN does (set by the server). */
    void onShutdownRequest(Runnable action) {
        shutdownRequest = action;
    }

    /** What the admin console's RELOAD does (set by the server). */
    void onReloadRequest(java.util.function.Function<String, ConfigReloader.Outcome> action) {
        reloadRequest = action;
    }

    /** The admin console's view of the proxy: SHUTDOWN and RELOAD. */
    ProxyControl control() {
        return new ProxyControl() {
            @Override
            public void shutdown() {
                shutdownRequest.run();
            }

            @Override
            public ConfigReloader.Outcome reload(String trigger) {
                return reloadRequest.apply(trigger);
            }
        };
    }

    /** The TLS clients connect with (tls). */
    io.pgbalancer.tls.ClientTls clientTls() {
        return clientTls;
    }

    /** Client connections counted from accept, and per user once logged in. */
    ConnectionLimits limits() {
        return limits;
    }

    /** The configuration in effect now. */
    PgBalancerConfig config() {
        return live.get();
    }

    LiveConfig live() {
        return live;
    }

    UserDirectory users() {
        return users;
    }

    SessionServices sessionServices() {
        return sessionServices;
    }

    PoolRegistry pools() {
        return sessionServices.pools();
    }

    CancelRegistry cancels() {
        return sessionServices.cancels();
    }

    SessionTracker sessions() {
        return sessionServices.sessions();
    }
}

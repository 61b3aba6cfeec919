// The running proxy's shared parts, built once from the configuration.
package io.pgbalancer.server;

import io.netty.channel.EventLoopGroup;
import io.pgbalancer.auth.UserDirectory;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionServices;
import io.pgbalancer.session.SessionTracker;
import io.pgbalancer.sql.StatementClassifier;
import java.util.Set;

final class ProxyContext {
    private final PgBalancerConfig config;
    private final UserDirectory users;
    private final SessionServices sessionServices;
    private volatile Runnable shutdownRequest = () -> {
    };

    ProxyContext(PgBalancerConfig config, EventLoopGroup workers) {
        this.config = config;
        this.users = new UserDirectory(config.auth().users());
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), users::password, workers);
        Set<String> writeFunctions = new java.util.HashSet<>(config.routing().writeFunctions());
        if (config.routing().volatileFunctions() == io.pgbalancer.config.VolatileFunctions.PRIMARY) {
            writeFunctions.addAll(io.pgbalancer.routing.VolatileFunctionCatalog.load(config));
        }
        StatementClassifier classifier = new StatementClassifier(writeFunctions, 16_384);
        this.sessionServices = new SessionServices(config, pools, classifier, new CancelRegistry(),
                new SessionTracker(), new Router(config));
    }

    /** What the admin console's SHUTDOWN does (set by the server). */
    void onShutdownRequest(Runnable action) {
        shutdownRequest = action;
    }

    void requestShutdown() {
        shutdownRequest.run();
    }

    PgBalancerConfig config() {
        return config;
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

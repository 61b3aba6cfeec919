// What a client session needs from the running proxy: pools, the statement classifier, cancel keys, settings.
package io.pgbalancer.session;

import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.PoolMode;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.routing.Router;
import io.pgbalancer.sql.StatementClassifier;

public record SessionServices(PgBalancerConfig config, PoolRegistry pools, StatementClassifier classifier,
                              CancelRegistry cancels, SessionTracker sessions, Router router, SessionEvents events,
                              PauseGate pauses) {
    public SessionServices(PgBalancerConfig config, PoolRegistry pools, StatementClassifier classifier,
                           CancelRegistry cancels, SessionTracker sessions, Router router) {
        this(config, pools, classifier, cancels, sessions, router, new SessionEvents(), new PauseGate());
    }

    public boolean sessionPooling() {
        return config.pool().mode() == PoolMode.SESSION;
    }
}

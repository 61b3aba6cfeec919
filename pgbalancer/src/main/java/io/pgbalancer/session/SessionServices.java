// What a client session needs from the running proxy: pools, the statement classifier, cancel keys, settings.
package io.pgbalancer.session;

import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.PoolMode;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.reload.LiveConfig;
import io.pgbalancer.routing.Router;
import io.pgbalancer.sql.StatementClassifier;

/** {@link #config()} and {@link #classifier()} follow reloads; the rest lives as long as the proxy. */
public final class SessionServices {
    private final LiveConfig live;
    private final PoolRegistry pools;
    private volatile StatementClassifier classifier;
    private final CancelRegistry cancels;
    private final SessionTracker sessions;
    private final Router router;
    private final SessionEvents events;
    private final PauseGate pauses;
    /**
     * routing.consistency and whether any replica is configured, asked on every use (reloads apply): one instance
     * for every session's SessionCausality instead of a lambda each (memory per idle client).
     */
    final java.util.function.Supplier<io.pgbalancer.config.Consistency> consistency =
            () -> config().routing().consistency();
    final java.util.function.BooleanSupplier hasReplicas = () -> router().hasReplicas();

    public SessionServices(LiveConfig live, PoolRegistry pools, StatementClassifier classifier, CancelRegistry cancels,
                           SessionTracker sessions, Router router, SessionEvents events, PauseGate pauses) {
        this.live = live;
        this.pools = pools;
        this.classifier = classifier;
        this.cancels = cancels;
        this.sessions = sessions;
        this.router = router;
        this.events = events;
        this.pauses = pauses;
    }

    public SessionServices(PgBalancerConfig config, PoolRegistry pools, StatementClassifier classifier,
                           CancelRegistry cancels, SessionTracker sessions, Router router) {
        this(new LiveConfig(config), pools, classifier, cancels, sessions, router, new SessionEvents(),
                new PauseGate());
    }

    /** The configuration in effect now. */
    public PgBalancerConfig config() {
        return live.get();
    }

    public LiveConfig live() {
        return live;
    }

    public PoolRegistry pools() {
        return pools;
    }

    /** The classifier for sessions that start now (a reload that changes write_functions replaces it). */
    public StatementClassifier classifier() {
        return classifier;
    }

    public void classifier(StatementClassifier next) {
        classifier = next;
    }

    public CancelRegistry cancels() {
        return cancels;
    }

    public SessionTracker sessions() {
        return sessions;
    }

    public Router router() {
        return router;
    }

    public SessionEvents events() {
        return events;
    }

    public PauseGate pauses() {
        return pauses;
    }

    public boolean sessionPooling() {
        return config().pool().mode() == PoolMode.SESSION;
    }
}

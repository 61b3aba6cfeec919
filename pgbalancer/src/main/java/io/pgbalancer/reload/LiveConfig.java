// The configuration in effect now: read on every use by whatever a reload may change, replaced whole by a reload.
package io.pgbalancer.reload;

import io.pgbalancer.config.PgBalancerConfig;
import java.util.Objects;

public final class LiveConfig {
    private volatile PgBalancerConfig current;

    public LiveConfig(PgBalancerConfig initial) {
        this.current = Objects.requireNonNull(initial, "initial");
    }

    public PgBalancerConfig get() {
        return current;
    }

    /** Puts {@code next} in effect (the reloader, or its applier while it holds the topology lock). */
    public void set(PgBalancerConfig next) {
        current = Objects.requireNonNull(next, "next");
    }
}

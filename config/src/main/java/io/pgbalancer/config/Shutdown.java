// purpose: graceful shutdown settings (YAML section "shutdown")
package io.pgbalancer.config;

import java.time.Duration;
import java.util.Objects;

/** {@code gracePeriod} is zero or positive; zero means close client connections immediately. */
public record Shutdown(Duration gracePeriod) {
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(30);

    public Shutdown {
        Objects.requireNonNull(gracePeriod, "gracePeriod");
    }

    public static Shutdown defaults() {
        return new Shutdown(DEFAULT_GRACE_PERIOD);
    }
}

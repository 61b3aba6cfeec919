// purpose: backend connection pool settings (YAML section "pool")
package io.pgbalancer.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Pool settings. {@code idleTimeout} and {@code maxLifetime} of {@link Duration#ZERO} mean "disabled";
 * {@code checkoutTimeout} and {@code connectTimeout} are always positive in a loaded configuration.
 * {@code maxPreparedStatements} is how many proxy-owned prepared statements pgbalancer keeps per backend connection
 * (least recently used ones are closed on the server beyond it); always positive.
 */
public record Pool(PoolMode mode, int size, Duration checkoutTimeout, Duration idleTimeout,
                   Duration maxLifetime, Duration connectTimeout, int maxPreparedStatements) {
    public static final PoolMode DEFAULT_MODE = PoolMode.TRANSACTION;
    public static final int DEFAULT_SIZE = 20;
    public static final Duration DEFAULT_CHECKOUT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(1);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_PREPARED_STATEMENTS = 1000;

    public Pool {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(checkoutTimeout, "checkoutTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        if (maxPreparedStatements < 1) {
            throw new IllegalArgumentException("maxPreparedStatements must be positive: " + maxPreparedStatements);
        }
    }

    /** Pool settings with the default {@code max_prepared_statements}. */
    public Pool(PoolMode mode, int size, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime,
                Duration connectTimeout) {
        this(mode, size, checkoutTimeout, idleTimeout, maxLifetime, connectTimeout, DEFAULT_MAX_PREPARED_STATEMENTS);
    }

    public static Pool defaults() {
        return new Pool(DEFAULT_MODE, DEFAULT_SIZE, DEFAULT_CHECKOUT_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
                DEFAULT_MAX_LIFETIME, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_PREPARED_STATEMENTS);
    }
}

// The pool limits that apply to every BackendPool, taken from the config's pool section.
package io.pgbalancer.pool;

import io.pgbalancer.config.Pool;
import java.time.Duration;

public record PoolSettings(int size, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime,
                           Duration connectTimeout, int maxPreparedStatements) {
    /** Settings with the default {@code pool.max_prepared_statements}. */
    public PoolSettings(int size, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime,
                        Duration connectTimeout) {
        this(size, checkoutTimeout, idleTimeout, maxLifetime, connectTimeout, Pool.DEFAULT_MAX_PREPARED_STATEMENTS);
    }

    public static PoolSettings from(Pool pool) {
        return new PoolSettings(pool.size(), pool.checkoutTimeout(), pool.idleTimeout(), pool.maxLifetime(),
                pool.connectTimeout(), pool.maxPreparedStatements());
    }

    /** The same settings with another pool size. */
    public PoolSettings withSize(int newSize) {
        return new PoolSettings(newSize, checkoutTimeout, idleTimeout, maxLifetime, connectTimeout,
                maxPreparedStatements);
    }
}

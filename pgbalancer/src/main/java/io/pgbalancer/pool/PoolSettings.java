// The pool limits that apply to every BackendPool, taken from the config's pool section.
package io.pgbalancer.pool;

import io.pgbalancer.config.Pool;
import java.time.Duration;

public record PoolSettings(int size, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime,
                           Duration connectTimeout) {
    public static PoolSettings from(Pool pool) {
        return new PoolSettings(pool.size(), pool.checkoutTimeout(), pool.idleTimeout(), pool.maxLifetime(),
                pool.connectTimeout());
    }
}

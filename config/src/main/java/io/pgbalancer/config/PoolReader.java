// purpose: reads and validates the "pool" section
package io.pgbalancer.config;

import java.time.Duration;
import java.util.List;
import io.pgbalancer.config.ValueReader.DurationRule;

final class PoolReader {
    static final List<String> KEYS =
            List.of("mode", "size", "checkout_timeout", "idle_timeout", "max_lifetime", "connect_timeout",
                    "max_prepared_statements");

    private PoolReader() {
    }

    static Pool read(ValueReader values, MappingReader pool) {
        PoolMode mode = pool.get("mode")
                .flatMap(n -> values.choice(pool.path("mode"), n, PoolMode.class, PoolMode::yamlName))
                .orElse(Pool.DEFAULT_MODE);
        int size = pool.get("size")
                .flatMap(n -> values.positiveInteger(pool.path("size"), n))
                .orElse(Pool.DEFAULT_SIZE);
        int maxPrepared = pool.get("max_prepared_statements")
                .flatMap(n -> values.positiveInteger(pool.path("max_prepared_statements"), n))
                .orElse(Pool.DEFAULT_MAX_PREPARED_STATEMENTS);
        return new Pool(mode, size,
                duration(values, pool, "checkout_timeout", DurationRule.POSITIVE, Pool.DEFAULT_CHECKOUT_TIMEOUT),
                duration(values, pool, "idle_timeout", DurationRule.ZERO_ALLOWED, Pool.DEFAULT_IDLE_TIMEOUT),
                duration(values, pool, "max_lifetime", DurationRule.ZERO_ALLOWED, Pool.DEFAULT_MAX_LIFETIME),
                duration(values, pool, "connect_timeout", DurationRule.POSITIVE, Pool.DEFAULT_CONNECT_TIMEOUT),
                maxPrepared);
    }

    private static Duration duration(ValueReader values, MappingReader pool, String key, DurationRule rule,
                                     Duration defaultValue) {
        return pool.get(key).flatMap(n -> values.duration(pool.path(key), n, rule)).orElse(defaultValue);
    }
}

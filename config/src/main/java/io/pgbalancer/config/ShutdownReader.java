// purpose: reads and validates the "shutdown" section
package io.pgbalancer.config;

import java.util.List;
import io.pgbalancer.config.ValueReader.DurationRule;

final class ShutdownReader {
    static final List<String> KEYS = List.of("grace_period");

    private ShutdownReader() {
    }

    static Shutdown read(ValueReader values, MappingReader shutdown) {
        return new Shutdown(shutdown.get("grace_period")
                .flatMap(n -> values.duration(shutdown.path("grace_period"), n, DurationRule.ZERO_ALLOWED))
                .orElse(Shutdown.DEFAULT_GRACE_PERIOD));
    }
}

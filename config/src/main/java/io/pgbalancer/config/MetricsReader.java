// purpose: reads and validates the "metrics" section
package io.pgbalancer.config;

import java.util.List;

final class MetricsReader {
    static final List<String> KEYS = List.of("host", "port");

    private MetricsReader() {
    }

    static Metrics read(ValueReader values, MappingReader metrics) {
        String host = metrics.get("host")
                .flatMap(n -> values.host(metrics.path("host"), n))
                .orElse(Metrics.DEFAULT_HOST);
        int port = metrics.get("port")
                .flatMap(n -> values.port(metrics.path("port"), n))
                .orElse(Metrics.DISABLED);
        return new Metrics(host, port);
    }
}

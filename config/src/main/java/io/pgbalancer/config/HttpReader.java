// purpose: reads and validates the "http" section, and the deprecated "metrics" section it replaces
package io.pgbalancer.config;

import java.util.List;

final class HttpReader {
    static final List<String> KEYS = List.of("host", "port");

    private HttpReader() {
    }

    static final String DEPRECATED = "metrics: is deprecated, use http: (same keys, host and port)";

    static Http read(ValueReader values, MappingReader http) {
        String host = http.get("host")
                .flatMap(n -> values.host(http.path("host"), n))
                .orElse(Http.DEFAULT_HOST);
        int port = http.get("port")
                .flatMap(n -> values.port(http.path("port"), n))
                .orElse(Http.DISABLED);
        return new Http(host, port);
    }
}

// purpose: reads and validates the "listen" section
package io.pgbalancer.config;

import java.util.List;

final class ListenReader {
    static final List<String> KEYS = List.of("host", "port", "io_threads", "transport");

    private ListenReader() {
    }

    static Listen read(ValueReader values, MappingReader listen) {
        String host = listen.get("host")
                .flatMap(n -> values.host(listen.path("host"), n))
                .orElse(Listen.DEFAULT_HOST);
        int port = listen.get("port")
                .flatMap(n -> values.port(listen.path("port"), n))
                .orElse(Listen.DEFAULT_PORT);
        int ioThreads = listen.get("io_threads")
                .flatMap(n -> values.integer(listen.path("io_threads"), n, 0, 256, "an integer between 0 (auto) and 256"))
                .orElse(Listen.DEFAULT_IO_THREADS);
        SocketTransport transport = listen.get("transport")
                .flatMap(n -> values.choice(listen.path("transport"), n, SocketTransport.class,
                        SocketTransport::yamlName))
                .orElse(Listen.DEFAULT_TRANSPORT);
        return new Listen(host, port, ioThreads, transport);
    }
}

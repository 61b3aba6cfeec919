// purpose: the address pgbalancer accepts client connections on (YAML section "listen")
package io.pgbalancer.config;

import java.util.Objects;

public record Listen(String host, int port, int ioThreads, SocketTransport transport) {
    public static final SocketTransport DEFAULT_TRANSPORT = SocketTransport.AUTO;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 6432;
    /** 0 means auto: one thread for now (see {@link #effectiveIoThreads()}). */
    public static final int DEFAULT_IO_THREADS = 0;

    public Listen(String host, int port) {
        this(host, port, DEFAULT_IO_THREADS);
    }

    public Listen(String host, int port, int ioThreads) {
        this(host, port, ioThreads, DEFAULT_TRANSPORT);
    }

    /**
     * Event-loop threads for all client and backend sockets. Auto is one: a client and its backend on different
     * threads cost a thread hop per message, and a race that left a client's query unanswered with more than one
     * thread was only just fixed (BENCHMARKS.md, "Lost query with io_threads > 1"): more threads are opt-in.
     */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : 1;
    }

    public Listen {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(transport, "transport");
    }

    public static Listen defaults() {
        return new Listen(DEFAULT_HOST, DEFAULT_PORT);
    }
}

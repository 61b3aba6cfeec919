// purpose: the address pgbalancer accepts client connections on (YAML section "listen")
package io.pgbalancer.config;

import java.util.Objects;

public record Listen(String host, int port, int ioThreads, SocketTransport transport) {
    public static final SocketTransport DEFAULT_TRANSPORT = SocketTransport.AUTO;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 6432;
    /** 0 means auto: half the CPUs the JVM may use, at least one (see {@link #effectiveIoThreads()}). */
    public static final int DEFAULT_IO_THREADS = 0;

    public Listen(String host, int port) {
        this(host, port, DEFAULT_IO_THREADS);
    }

    public Listen(String host, int port, int ioThreads) {
        this(host, port, ioThreads, DEFAULT_TRANSPORT);
    }

    /**
     * Event-loop threads for all client and backend sockets. Auto is half the CPUs the JVM may use (a container's
     * CPU limit counts), at least one: the other half is left to the kernel's loopback and socket work, which is most
     * of a transaction's cost (BENCHMARKS.md). On 2 CPUs that is one thread: a client and its backend on different
     * threads cost a thread hop, which the pool avoids for most checkouts but not all.
     */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : autoIoThreads();
    }

    /** What {@code io_threads: 0} means on this machine. */
    public static int autoIoThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    public Listen {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(transport, "transport");
    }

    public static Listen defaults() {
        return new Listen(DEFAULT_HOST, DEFAULT_PORT);
    }
}

// purpose: test helper: clients that read continuously through pgbalancer, counting the reads by the server's port.
package io.pgbalancer.it;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each client keeps one connection and runs {@code SELECT inet_server_port()} until {@link #close()}. After
 * {@link #avoid(int)}, reads that start later and still land on that port are counted in {@link #strays()}.
 */
final class ReadLoad implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final Map<Integer, AtomicLong> byPort = new ConcurrentHashMap<>();
    private final AtomicLong avoidedSince = new AtomicLong(Long.MAX_VALUE);
    private volatile int avoided = -1;
    private final AtomicLong strays = new AtomicLong();
    private final ExecutorService pool;
    private final List<Future<?>> clients = new ArrayList<>();

    ReadLoad(TestProxy proxy, int clientCount) {
        pool = Executors.newFixedThreadPool(clientCount);
        for (int c = 0; c < clientCount; c++) {
            clients.add(pool.submit(() -> {
                try (Connection conn = proxy.connect(); Statement st = conn.createStatement()) {
                    while (running.get()) {
                        long started = System.nanoTime();
                        try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                            rs.next();
                            int port = rs.getInt(1);
                            byPort.computeIfAbsent(port, p -> new AtomicLong()).incrementAndGet();
                            if (port == avoided && started - avoidedSince.get() > 0) {
                                strays.incrementAndGet();
                            }
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
    }

    /** Reads that ran on {@code port} so far. */
    long on(int port) {
        AtomicLong n = byPort.get(port);
        return n == null ? 0 : n.get();
    }

    boolean failed() {
        return !errors.isEmpty();
    }

    /** From now on no read should start on {@code port}. */
    void avoid(int port) {
        avoided = port;
        avoidedSince.set(System.nanoTime());
    }

    /** Reads that started after {@link #avoid(int)} and ran on that port anyway. */
    long strays() {
        return strays.get();
    }

    Map<Integer, AtomicLong> byPort() {
        return byPort;
    }

    /** Stops the clients and fails with every client error, if any. */
    @Override
    public void close() throws Exception {
        running.set(false);
        for (Future<?> f : clients) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        if (!errors.isEmpty()) {
            AssertionError failure = new AssertionError(errors.size() + " client error(s)");
            errors.forEach(failure::addSuppressed);
            throw failure;
        }
    }
}

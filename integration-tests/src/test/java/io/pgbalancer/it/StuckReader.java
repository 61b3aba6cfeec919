// purpose: test helper for FaultMatrixIT: a raw client that asks for a huge result and never reads it, and what
// pgbalancer's memory does meanwhile (Netty direct memory, JVM heap: the proxy runs in this JVM).
package io.pgbalancer.it;

import io.netty.util.internal.PlatformDependent;
import io.pgbalancer.it.BadInputIT.RawPg;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Callable;

final class StuckReader implements AutoCloseable {
    static final int RESULT_MB = 200;
    private static final String MARK = "fm-stuck-reader";

    /** Direct memory in use (Netty's own counter plus NIO direct buffers) and the heap in use after a GC. */
    record Sample(long directBytes, long heapBytes) {
        Sample minus(Sample base) {
            return new Sample(directBytes - base.directBytes, heapBytes - base.heapBytes);
        }

        @Override
        public String toString() {
            return String.format("direct %+.1f MB, heap after GC %+.1f MB", directBytes / 1048576.0,
                    heapBytes / 1048576.0);
        }
    }

    static long direct() {
        long nio = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return nio + Math.max(0, PlatformDependent.usedDirectMemory());
    }

    static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static Sample sample() {
        return new Sample(direct(), heapAfterGc());
    }

    private final RawPg raw;
    private final FaultChecks checks;
    private final long sentNanos = System.nanoTime();
    private int serverPort;
    private int pid;
    private long closedNanos;

    private StuckReader(RawPg raw, FaultChecks checks) {
        this.raw = raw;
        this.checks = checks;
    }

    /** Logs in and sends the query; reads nothing more. */
    static StuckReader start(int proxyPort, FaultChecks checks) throws IOException {
        RawPg raw = RawPg.loggedIn(proxyPort, "app");
        raw.send('Q', BadInputIT.cstrings("SELECT repeat('x', 1024) FROM generate_series(1, " + RESULT_MB * 1024
                + ") /* " + MARK + " */"));
        return new StuckReader(raw, checks);
    }

    /** Waits until the server running the query is blocked writing to pgbalancer; ms since the query was sent. */
    long awaitServerBlocked() throws Exception {
        Poll.until(Duration.ofSeconds(30), "a server to block in ClientWrite on the stuck client's query", () -> {
            for (int port : checks.serverPorts()) {
                try (Connection c = checks.direct(port); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_activity WHERE query LIKE '%" + MARK
                             + "%' AND wait_event = 'ClientWrite' AND pid <> pg_backend_pid()")) {
                    if (rs.next()) {
                        serverPort = port;
                        pid = rs.getInt(1);
                        return true;
                    }
                }
            }
            return false;
        });
        return FaultCase.millisSince(sentNanos);
    }

    /** Samples direct memory until {@code done}, then the heap after a GC; the peak direct and that heap. */
    Sample watch(Callable<Boolean> done) throws Exception {
        long peak = direct();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the other clients did not get their work done while one client was stuck");
            }
            peak = Math.max(peak, direct());
            Thread.sleep(20);
        }
        return new Sample(Math.max(peak, direct()), heapAfterGc());
    }

    /** Waits until the stuck query no longer runs (its backend closed or freed); ms since the client closed. */
    long awaitBackendGone() throws Exception {
        Poll.until(Duration.ofSeconds(10), "the stuck client's backend (pid " + pid + ") to go", () -> {
            try (Connection c = checks.direct(serverPort); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid
                         + " AND state = 'active' AND query LIKE '%" + MARK + "%'")) {
                rs.next();
                return rs.getInt(1) == 0;
            }
        });
        return FaultCase.millisSince(closedNanos);
    }

    @Override
    public void close() throws IOException {
        if (closedNanos == 0) {
            closedNanos = System.nanoTime();
            raw.close();
        }
    }
}

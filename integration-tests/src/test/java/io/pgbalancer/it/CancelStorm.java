// purpose: test helper for FaultMatrixIT: victims and innocents running pg_sleep queries through pgbalancer's shared
// backends while 1,000 CancelRequests with the victims' keys arrive at once; an innocent must never be hit.
package io.pgbalancer.it;

import io.pgbalancer.it.BadInputIT.RawPg;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Victims are raw-protocol clients (their BackendKeyData is the cancel key pgbalancer gave them) whose queries sleep
 * until a cancel ends them: PostgreSQL forks a process per CancelRequest, so on a busy machine a storm is delivered
 * over seconds, and a short query would often be over before its cancel lands. Innocents are pgjdbc clients with
 * short queries, so a cancelled victim's backend passes to them while more of that victim's cancels are on their way.
 */
final class CancelStorm implements AutoCloseable {
    static final String VICTIM_SLEEP = "30";
    static final String INNOCENT_SLEEP = "0.02";
    private static final int CANCEL_REQUEST_CODE = 80877102;

    private record Victim(RawPg raw, int processId, int secret, AtomicLong cancelled) {
    }

    private final int proxyPort;
    private final List<Victim> victims = new ArrayList<>();
    private final List<Connection> innocents = new ArrayList<>();
    private final ExecutorService threads;
    private final List<Future<?>> loops = new ArrayList<>();
    private volatile boolean running = true;
    private final AtomicLong victimsCancelled = new AtomicLong();
    private final AtomicLong victimQueries = new AtomicLong();
    private final AtomicLong innocentQueries = new AtomicLong();
    private final AtomicLong innocentsCancelled = new AtomicLong();
    private final ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();

    CancelStorm(TestProxy proxy, int victimCount, int innocentCount) throws Exception {
        proxyPort = proxy.port();
        threads = Executors.newFixedThreadPool(victimCount + innocentCount);
        for (int i = 0; i < victimCount; i++) {
            Victim v = login(proxyPort);
            victims.add(v);
            String tag = "v" + i;
            loops.add(threads.submit(() -> victimLoop(v, tag)));
        }
        for (int i = 0; i < innocentCount; i++) {
            Connection c = proxy.connect("ApplicationName", "fm-innocent-" + i);
            innocents.add(c);
            String tag = "i" + i;
            loops.add(threads.submit(() -> innocentLoop(c, tag)));
        }
    }

    /** A raw login (trust) that keeps the BackendKeyData. */
    private static Victim login(int port) throws IOException {
        RawPg raw = new RawPg(port);
        raw.socket.setSoTimeout(60_000); // a victim's query lasts until a cancel ends it
        raw.sendUntyped(196608, BadInputIT.cstrings("user", "app", "database", "app"));
        raw.expectAuthOk();
        int pid = 0;
        int secret = 0;
        for (RawPg.Msg m = raw.readOrEof(); m != null && m.type() != 'Z'; m = raw.readOrEof()) {
            if (m.type() == 'K') {
                pid = m.int32(0);
                secret = m.int32(4);
            }
        }
        return new Victim(raw, pid, secret, new AtomicLong());
    }

    private Void victimLoop(Victim v, String tag) throws IOException {
        int n = 0;
        while (running) {
            String mine = tag + "-" + (++n);
            victimQueries.incrementAndGet();
            v.raw().send('Q', BadInputIT.cstrings("SELECT '" + mine + "'::text FROM pg_sleep(" + VICTIM_SLEEP + ")"));
            for (RawPg.Msg m = v.raw().readOrEof(); ; m = v.raw().readOrEof()) {
                if (m == null) {
                    unexpected.add(tag + ": connection closed");
                    return null;
                }
                if (m.type() == 'D') {
                    String got = new String(m.body(), 6, m.int32(2), StandardCharsets.UTF_8);
                    if (!mine.equals(got)) {
                        wrong.add(tag + " asked for " + mine + " and got " + got);
                    }
                } else if (m.type() == 'E' && "57014".equals(m.fields().get('C'))) {
                    victimsCancelled.incrementAndGet();
                    v.cancelled().incrementAndGet();
                } else if (m.type() == 'E') {
                    unexpected.add(tag + " failed: " + m.describe());
                } else if (m.type() == 'Z') {
                    break;
                }
            }
        }
        return null;
    }

    private Void innocentLoop(Connection c, String tag) throws SQLException {
        int n = 0;
        try (Statement st = c.createStatement()) {
            while (running) {
                String mine = tag + "-" + (++n);
                innocentQueries.incrementAndGet();
                try (ResultSet rs = st.executeQuery("SELECT '" + mine + "'::text FROM pg_sleep(" + INNOCENT_SLEEP
                        + ")")) {
                    rs.next();
                    if (!mine.equals(rs.getString(1))) {
                        wrong.add(tag + " asked for " + mine + " and got " + rs.getString(1));
                    }
                } catch (SQLException e) {
                    if ("57014".equals(e.getSQLState())) {
                        innocentsCancelled.incrementAndGet();
                        wrong.add(tag + " (innocent) was cancelled: " + e.getMessage());
                    } else {
                        unexpected.add(tag + " failed: " + e.getSQLState() + " " + e.getMessage());
                        throw e;
                    }
                }
            }
        }
        return null;
    }

    /** Waits until every victim has sent its query and the innocents have run a few each. */
    void awaitRunning() throws Exception {
        Poll.until(Duration.ofSeconds(20), "victims and innocents to run", () -> victimQueries.get() >= victims.size()
                && innocentQueries.get() > 3L * innocents.size());
    }

    /**
     * Opens {@code total} connections to pgbalancer, then sends a CancelRequest with a victim's key (in turn) on every
     * one of them at once and waits until pgbalancer has closed them all. Returns the ms from the first send to the
     * last close.
     */
    long fire(int total) throws Exception {
        List<Socket> sockets = new ArrayList<>(total);
        ExecutorService io = Executors.newFixedThreadPool(50);
        try {
            List<Future<Socket>> opening = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                opening.add(io.submit(() -> {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort), 10_000);
                    s.setSoTimeout(20_000);
                    return s;
                }));
            }
            for (Future<Socket> f : opening) {
                sockets.add(f.get(30, TimeUnit.SECONDS));
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> sent = new ArrayList<>();
            int senders = 50;
            for (int t = 0; t < senders; t++) {
                int first = t;
                sent.add(io.submit(() -> {
                    go.await();
                    for (int k = first; k < total; k += senders) {
                        sockets.get(k).getOutputStream().write(cancelRequest(victims.get(k % victims.size())));
                    }
                    for (int k = first; k < total; k += senders) {
                        try (Socket s = sockets.get(k); InputStream in = s.getInputStream()) {
                            while (in.read() >= 0) {
                                // pgbalancer answers nothing and closes
                            }
                        }
                    }
                    return null;
                }));
            }
            long t0 = System.nanoTime();
            go.countDown();
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        } finally {
            io.shutdownNow();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    private static byte[] cancelRequest(Victim v) {
        return ByteBuffer.allocate(16).putInt(16).putInt(CANCEL_REQUEST_CODE).putInt(v.processId()).putInt(v.secret())
                .array();
    }

    /** Lets every loop finish: innocents after their query, victims after a cancel of their own, sent until they do. */
    void stop() throws Exception {
        running = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < victims.size(); i++) {
            Future<?> loop = loops.get(i);
            while (!loop.isDone() && System.nanoTime() - deadline < 0) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxyPort)) {
                    s.getOutputStream().write(cancelRequest(victims.get(i)));
                    s.setSoTimeout(5_000);
                    while (s.getInputStream().read() >= 0) {
                        // pgbalancer closes it once the cancel is on its way
                    }
                }
                try {
                    loop.get(200, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException stillSleeping) {
                    // its query was waiting for a backend: try again
                }
            }
        }
        for (Future<?> f : loops) {
            f.get(30, TimeUnit.SECONDS);
        }
    }

    /** Victims none of the storm's cancels reached (each victim's own count of 57014, before {@link #stop()}). */
    List<String> victimsNeverCancelled() {
        List<String> never = new ArrayList<>();
        for (int i = 0; i < victims.size(); i++) {
            if (victims.get(i).cancelled().get() == 0) {
                never.add("v" + i);
            }
        }
        return never;
    }

    long victimsCancelled() {
        return victimsCancelled.get();
    }

    long innocentsCancelled() {
        return innocentsCancelled.get();
    }

    long innocentQueries() {
        return innocentQueries.get();
    }

    /** Innocents cancelled, and answers that were not the asker's. */
    List<String> wrong() {
        return List.copyOf(wrong);
    }

    /** Errors other than a victim's 57014. */
    List<String> unexpected() {
        return List.copyOf(unexpected);
    }

    @Override
    public void close() throws Exception {
        running = false;
        threads.shutdown();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        for (Victim v : victims) {
            v.raw().close();
        }
        for (Connection c : innocents) {
            c.close();
        }
    }
}

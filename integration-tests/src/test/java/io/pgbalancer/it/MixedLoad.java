// purpose: test helper for FaultMatrixIT: pgjdbc writers of checksummed rows and readers of tagged answers through
// pgbalancer, counting errors, catching any answer meant for another client, and pausing between transactions.
package io.pgbalancer.it;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writers insert rows {@code (tag, n, payload, md5)} into {@value #TABLE}, every third time two rows in an explicit
 * transaction, and remember a row only once its COMMIT returned. Readers ask for a value unique to the query and the
 * server's port. A client whose connection broke opens a new one (as a pool would). Any answer that is not the
 * asker's own, and any 57014 (nobody here cancels), is a wrong-client result.
 */
final class MixedLoad implements AutoCloseable {
    static final String TABLE = "fm_rows";

    private final Properties props = new Properties();
    private final String url;
    private final List<Client> clients = new ArrayList<>();
    private final ExecutorService threads;
    private final List<Future<?>> futures = new ArrayList<>();
    private final Object gate = new Object();
    private volatile boolean running = true;
    private volatile boolean paused;

    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong writeErrors = new AtomicLong();
    private final AtomicLong readErrors = new AtomicLong();
    final ConcurrentLinkedQueue<LoadStats.Failure> failures = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    private final Map<String, Set<Integer>> committed = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicLong> readsByPort = new ConcurrentHashMap<>();
    /** The longest operation since {@link #resetSlowest()}, in ms. */
    private final AtomicLong slowestMillis = new AtomicLong();
    private final LoadStats.Gap writeGap = new LoadStats.Gap();
    private final LoadStats.Gap readGap = new LoadStats.Gap();

    MixedLoad(TestProxy proxy, int writers, int readers) {
        url = proxy.jdbcUrl("app");
        props.setProperty("user", "app");
        props.setProperty("password", TestCluster.APP_PASSWORD);
        props.setProperty("connectTimeout", "20");
        props.setProperty("socketTimeout", "60"); // a hang fails the operation instead of the whole test run
        threads = Executors.newFixedThreadPool(writers + readers);
        for (int i = 0; i < writers; i++) {
            clients.add(new Writer("w" + i));
        }
        for (int i = 0; i < readers; i++) {
            clients.add(new Reader("r" + i));
        }
        clients.forEach(c -> futures.add(threads.submit(c::loop)));
    }

    /** The row payload for (tag, n); its md5 is what the writer stores and what the primary must hold. */
    static String payload(String tag, int n) {
        return (tag + ":" + n + ":").repeat(8 + n % 40);
    }

    static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    LoadStats.Totals stats() {
        return new LoadStats.Totals(writes.get(), reads.get(), writeErrors.get(), readErrors.get(), wrong.size());
    }

    /** Rows whose COMMIT returned, by writer tag (copies). */
    Map<String, List<Integer>> committed() {
        Map<String, List<Integer>> copy = new TreeMap<>();
        committed.forEach((tag, ns) -> copy.put(tag, List.copyOf(ns)));
        return copy;
    }

    long readsOn(int port) {
        AtomicLong n = readsByPort.get(port);
        return n == null ? 0 : n.get();
    }

    long slowestMillis() {
        return slowestMillis.get();
    }

    /** Starts measuring {@link #slowestMillis()} and the gaps afresh. */
    void resetSlowest() {
        slowestMillis.set(0);
        long now = System.nanoTime();
        writeGap.reset(now);
        readGap.reset(now);
    }

    /** The longest time since {@link #resetSlowest()} in which no writer completed a write, in ms. */
    long longestWriteGapMillis() {
        return writeGap.longestMillis();
    }

    /** The longest time since {@link #resetSlowest()} in which no reader completed a read, in ms. */
    long longestReadGapMillis() {
        return readGap.longestMillis();
    }

    /** Failures after {@code sinceNanos}, as "SQLSTATE xN" counts per client kind (writer/reader). */
    String describeFailures(long sinceNanos) {
        Map<String, Integer> counts = new TreeMap<>();
        for (LoadStats.Failure f : failures) {
            if (f.nanos() - sinceNanos >= 0) {
                String kind = f.client().startsWith("w") ? "writes" : "reads";
                counts.merge(kind + " " + f.sqlState(), 1, Integer::sum);
            }
        }
        return counts.isEmpty() ? "none" : counts.toString().replaceAll("[{}]", "").replace("=", " x");
    }

    /**
     * How long after {@code faultNanos} every client that failed since then had completed an operation again; 0 when
     * none failed, -1 when one has not recovered yet.
     */
    long recoveredMillisAfter(long faultNanos) {
        long latest = faultNanos;
        for (Client c : clients) {
            if (c.lastErrorNanos != 0 && c.lastErrorNanos - faultNanos >= 0) {
                if (c.recoveredNanos == 0) {
                    return -1;
                }
                latest = Math.max(latest, c.recoveredNanos);
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(latest - faultNanos);
    }

    /** Each client: connected or not, the operation it runs now, its last failure and whether it succeeded since. */
    String describeClients() {
        long now = System.nanoTime();
        StringBuilder b = new StringBuilder();
        for (Client c : clients) {
            long op = c.opStartNanos;
            b.append(c.tag)
                    .append(c.conn == null ? " (no connection)" : " (local port " + LoadStats.localPort(c.conn) + ")")
                    .append(op == 0 ? " between operations" : " in an operation for "
                            + TimeUnit.NANOSECONDS.toMillis(now - op) + " ms")
                    .append(c.lastErrorNanos == 0 ? "" : ", failed " + TimeUnit.NANOSECONDS.toMillis(now
                            - c.lastErrorNanos) + " ms ago" + (c.recoveredNanos == 0 ? ", not since recovered" : ""))
                    .append("; ");
        }
        return b.toString();
    }

    /** Client connections the load holds open now (each is one of pgbalancer's clients). */
    int openConnections() {
        return (int) clients.stream().filter(c -> c.conn != null).count();
    }

    /** Every client stops between two transactions (none holds a backend or a transaction); waits until they have. */
    void pause() throws Exception {
        paused = true;
        Poll.until(Duration.ofSeconds(90), "every load client to stop between transactions",
                () -> clients.stream().allMatch(c -> c.parked));
    }

    void resume() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    @Override
    public void close() throws Exception {
        running = false;
        resume();
        for (Future<?> f : futures) {
            f.get(90, TimeUnit.SECONDS);
        }
        threads.shutdown();
    }

    private abstract class Client {
        final String tag;
        volatile Connection conn;
        volatile boolean parked;
        volatile long lastErrorNanos;
        volatile long recoveredNanos;
        volatile long opStartNanos;
        int n;

        Client(String tag) {
            this.tag = tag;
        }

        abstract void step() throws SQLException;

        abstract void countError();

        abstract void countSuccess();

        void loop() {
            while (running) {
                if (paused) {
                    synchronized (gate) {
                        parked = true;
                        while (paused && running) {
                            try {
                                gate.wait();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                        }
                        parked = false;
                    }
                    continue;
                }
                long t0 = System.nanoTime();
                opStartNanos = t0;
                try {
                    if (conn == null) {
                        Properties p = new Properties();
                        p.putAll(props);
                        p.setProperty("ApplicationName", "fm-" + tag);
                        conn = DriverManager.getConnection(url, p);
                    }
                    step();
                    countSuccess();
                    if (recoveredNanos == 0) {
                        recoveredNanos = System.nanoTime();
                    }
                } catch (SQLException e) {
                    long now = System.nanoTime();
                    countError();
                    failures.add(new LoadStats.Failure(tag, now, e.getSQLState(), String.valueOf(e.getMessage())));
                    if ("57014".equals(e.getSQLState())) {
                        wrong.add(tag + " got a cancel it never asked for: " + e.getMessage());
                    }
                    lastErrorNanos = now;
                    recoveredNanos = 0;
                    Connection broken = conn;
                    conn = null;
                    try {
                        if (broken != null) {
                            broken.close();
                        }
                    } catch (SQLException ignored) {
                        // it is broken
                    }
                }
                opStartNanos = 0;
                slowestMillis.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), Math::max);
            }
            parked = true;
            try {
                if (conn != null) {
                    conn.close();
                }
            } catch (SQLException ignored) {
                // closing anyway
            }
            conn = null;
        }
    }

    private final class Writer extends Client {
        Writer(String tag) {
            super(tag);
            committed.put(tag, ConcurrentHashMap.newKeySet());
        }

        @Override
        void step() throws SQLException {
            int first = ++n;
            if (first % 3 != 0) {
                conn.setAutoCommit(true);
                insert(first);
                committed.get(tag).add(first);
                return;
            }
            int second = ++n;
            conn.setAutoCommit(false);
            try {
                insert(first);
                insert(second);
                conn.commit();
            } catch (SQLException e) {
                try {
                    conn.rollback();
                } catch (SQLException ignored) {
                    // the connection is gone; the transaction with it
                }
                throw e;
            }
            committed.get(tag).add(first);
            committed.get(tag).add(second);
        }

        private void insert(int row) throws SQLException {
            String payload = payload(tag, row);
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + TABLE
                    + " (tag, n, payload, md5) VALUES (?, ?, ?, ?) RETURNING tag, n, md5(payload) = md5")) {
                ps.setString(1, tag);
                ps.setInt(2, row);
                ps.setString(3, payload);
                ps.setString(4, md5(payload));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!tag.equals(rs.getString(1)) || rs.getInt(2) != row || !rs.getBoolean(3)) {
                        wrong.add(tag + " inserted row " + row + " but got back " + rs.getString(1) + "/"
                                + rs.getInt(2) + " checksum ok " + rs.getBoolean(3));
                    }
                }
            }
        }

        @Override
        void countError() {
            writeErrors.incrementAndGet();
        }

        @Override
        void countSuccess() {
            writes.incrementAndGet();
            writeGap.completed(System.nanoTime());
        }
    }

    private final class Reader extends Client {
        Reader(String tag) {
            super(tag);
        }

        @Override
        void step() throws SQLException {
            String mine = tag + "-" + (++n);
            String got;
            int port;
            if (n % 2 == 0) { // extended protocol; pgjdbc names the statement after 5 uses
                try (PreparedStatement ps = conn.prepareStatement("SELECT ?::text, inet_server_port()")) {
                    ps.setString(1, mine);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        got = rs.getString(1);
                        port = rs.getInt(2);
                    }
                }
            } else { // a new statement text each time
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT '" + mine + "'::text, inet_server_port()")) {
                    rs.next();
                    got = rs.getString(1);
                    port = rs.getInt(2);
                }
            }
            if (!mine.equals(got)) {
                wrong.add(tag + " asked for " + mine + " and got " + got);
            }
            readsByPort.computeIfAbsent(port, p -> new AtomicLong()).incrementAndGet();
        }

        @Override
        void countError() {
            readErrors.incrementAndGet();
        }

        @Override
        void countSuccess() {
            reads.incrementAndGet();
            readGap.completed(System.nanoTime());
        }
    }
}

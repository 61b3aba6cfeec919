// purpose: pgbench (init, tpcb-like, select-only in simple/extended/prepared modes) through a 4-connection pool.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgbenchIT {
    private static final String DB = "pgbench_it";
    private static final int POOL_SIZE = 4;
    private static final int CLIENTS = 32;
    private static final int TX_PER_CLIENT = 200;
    private static final Pattern PROCESSED =
            Pattern.compile("number of transactions actually processed: (\\d+)(?:/(\\d+))?");

    private static Path pgbench;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        Optional<Path> found = TestCluster.get().binaries().find("pgbench");
        assumeTrue(found.isPresent(), "pgbench is not available with these PostgreSQL binaries");
        pgbench = found.get();
        try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database if exists " + DB + " with (force)");
            st.execute("create database " + DB + " owner app");
        }
    }

    @Test
    void tpcbAndSelectOnlyInEveryQueryModeThroughFourBackends() throws Exception {
        try (TestProxy proxy = TestProxy.start(POOL_SIZE); BackendCounter backends = new BackendCounter()) {
            PsqlIT.Result init = pgbench(proxy, "-i", "-s", "2", "-q");
            assertEquals(0, init.exit(), init.describe());
            assertTrue(init.stderr().contains("done in"), init.describe());

            int expectedHistory = 0;
            for (String mode : List.of("simple", "extended", "prepared")) {
                PsqlIT.Result r = pgbench(proxy, "-n", "-c", Integer.toString(CLIENTS), "-j", threads(mode),
                        "-t", Integer.toString(TX_PER_CLIENT), "-M", mode);
                assertClean(r, "tpcb-like -M " + mode);
                Matcher m = PROCESSED.matcher(r.stdout());
                assertTrue(m.find(), r.describe());
                assertEquals(CLIENTS * TX_PER_CLIENT, Integer.parseInt(m.group(1)), r.describe());
                expectedHistory += CLIENTS * TX_PER_CLIENT;
            }
            for (String mode : List.of("simple", "extended", "prepared")) {
                PsqlIT.Result r = pgbench(proxy, "-n", "-S", "-c", Integer.toString(CLIENTS), "-j", threads(mode),
                        "-T", "3", "-M", mode);
                assertClean(r, "select-only -M " + mode);
                Matcher m = PROCESSED.matcher(r.stdout());
                assertTrue(m.find() && Integer.parseInt(m.group(1)) > CLIENTS, r.describe());
            }
            assertTrue(backends.max() >= 1 && backends.max() <= POOL_SIZE,
                    "pgbalancer used " + backends.max() + " backend connections; the pool size is " + POOL_SIZE);

            try (Connection c = TestCluster.directSuperuser(DB); Statement st = c.createStatement()) {
                ResultSet rs = st.executeQuery("select (select sum(abalance) from pgbench_accounts),"
                        + " (select sum(delta) from pgbench_history),"
                        + " (select sum(tbalance) from pgbench_tellers),"
                        + " (select sum(bbalance) from pgbench_branches),"
                        + " (select count(*) from pgbench_history),"
                        + " (select count(*) from pgbench_accounts)");
                rs.next();
                long accounts = rs.getLong(1);
                assertEquals(accounts, rs.getLong(2), "sum(abalance) vs sum(history.delta)");
                assertEquals(accounts, rs.getLong(3), "sum(abalance) vs sum(tbalance)");
                assertEquals(accounts, rs.getLong(4), "sum(abalance) vs sum(bbalance)");
                assertEquals(expectedHistory, rs.getLong(5), "one history row per committed tpcb transaction");
                assertEquals(200_000, rs.getLong(6), "pgbench -i -s 2 creates 200000 accounts");
            }
        }
    }

    /**
     * pgbench 15 prepares each statement with a synchronous PQprepare on first use, which blocks every client of
     * that pgbench thread; when another client of the same thread holds one of the 4 backends mid-transaction and
     * the rest are busy, the thread waits for a backend that only it can free (a pgbench-side deadlock that ends in
     * checkout_timeout). One thread per client avoids it; the other modes send asynchronously and use 2 threads.
     */
    private static String threads(String mode) {
        return mode.equals("prepared") ? Integer.toString(CLIENTS) : "2";
    }

    private static void assertClean(PsqlIT.Result r, String what) {
        assertEquals(0, r.exit(), what + ": " + r.describe());
        assertTrue(r.stdout().contains("number of failed transactions: 0 ("), what + ": " + r.describe());
        assertTrue(r.stdout().contains("number of clients: " + CLIENTS), what + ": " + r.describe());
    }

    private PsqlIT.Result pgbench(TestProxy proxy, String... args) throws Exception {
        return run(pgbench, proxy, DB, dir, args);
    }

    /** Runs pgbench as app through {@code proxy} against {@code db}, printing how long it took. */
    static PsqlIT.Result run(Path pgbench, TestProxy proxy, String db, Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(pgbench.toString(), "-h", "127.0.0.1", "-p",
                Integer.toString(proxy.port()), "-U", "app"));
        cmd.addAll(List.of(args));
        cmd.add(db);
        long t0 = System.nanoTime();
        PsqlIT.Result r = PsqlIT.run(cmd, Map.of("PGPASSWORD", TestCluster.APP_PASSWORD), dir, 60);
        System.out.printf("pgbench %s: exit %d in %d ms%n", String.join(" ", args), r.exit(),
                (System.nanoTime() - t0) / 1_000_000);
        return r;
    }

    /** Samples the primary's sessions of app in the benchmark database: pgbalancer must stay within its pool. */
    private static final class BackendCounter implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicInteger max = new AtomicInteger();
        private final Thread thread;

        BackendCounter() throws Exception {
            Connection c = TestCluster.directSuperuser("postgres");
            thread = new Thread(() -> {
                try (c; Statement st = c.createStatement()) {
                    while (!stop.get()) {
                        ResultSet rs = st.executeQuery("select count(*) from pg_stat_activity where datname = '" + DB
                                + "' and usename = 'app'");
                        rs.next();
                        max.accumulateAndGet(rs.getInt(1), Math::max);
                        Thread.sleep(50);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "pgbench-it-backend-counter");
            thread.setDaemon(true);
            thread.start();
        }

        int max() {
            return max.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(5_000);
        }
    }
}

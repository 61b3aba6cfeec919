// purpose: a CancelRequest through pgbalancer cancels exactly the sending client's running query, and a late cancel never hits the next client on that backend.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelIT {
    private ExecutorService bg;
    private TestProxy proxy;

    @BeforeEach
    void setUp() {
        bg = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() {
        bg.shutdownNow();
        if (proxy != null) {
            proxy.close();
        }
    }

    /** The outcome of one query: its value, or the SQLState it failed with. */
    private record Outcome(String value, String sqlState, long millis) {
        boolean cancelled() {
            return "57014".equals(sqlState);
        }
    }

    private Future<Outcome> run(Connection c, String sql) {
        Callable<Outcome> task = () -> {
            long t0 = System.nanoTime();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                return new Outcome(rs.getString(1), null, (System.nanoTime() - t0) / 1_000_000);
            } catch (SQLException e) {
                return new Outcome(null, e.getSQLState(), (System.nanoTime() - t0) / 1_000_000);
            }
        };
        return bg.submit(task);
    }

    private static void awaitRunning(Connection su, String marker, int count) throws Exception {
        Poll.untilValue(Duration.ofSeconds(3), "the " + count + " queries marked " + marker + " to run together",
                () -> {
                    try (Statement st = su.createStatement(); ResultSet rs = st.executeQuery(
                            "select count(*) from pg_stat_activity where state = 'active' and usename = 'app' "
                                    + "and query like '%" + marker + "%' and query not like '%pg_stat_activity%'")) {
                        rs.next();
                        return rs.getInt(1);
                    }
                }, running -> running >= count);
    }

    /** Two clients sleep at once on two backends; cancelling one (either one) leaves the other untouched. */
    @ParameterizedTest(name = "cancel client {0}")
    @ValueSource(ints = {0, 1})
    void cancelHitsOnlyThatClientsQuery(int victim) throws Exception {
        proxy = TestProxy.start(2);
        try (Connection su = TestCluster.directSuperuser("app");
             Connection c0 = proxy.connect("ApplicationName", "cancelit-0");
             Connection c1 = proxy.connect("ApplicationName", "cancelit-1")) {
            Connection[] clients = {c0, c1};
            Statement[] statements = {c0.createStatement(), c1.createStatement()};
            List<Future<Outcome>> outcomes = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Statement st = statements[i];
                String sql = "select 'done-" + i + "' from pg_sleep(2) /* cancelit-pair */";
                outcomes.add(bg.submit(() -> {
                    long t0 = System.nanoTime();
                    try (ResultSet rs = st.executeQuery(sql)) {
                        rs.next();
                        return new Outcome(rs.getString(1), null, (System.nanoTime() - t0) / 1_000_000);
                    } catch (SQLException e) {
                        return new Outcome(null, e.getSQLState(), (System.nanoTime() - t0) / 1_000_000);
                    }
                }));
            }
            awaitRunning(su, "cancelit-pair", 2);
            statements[victim].cancel();
            Outcome cancelled = outcomes.get(victim).get(5, TimeUnit.SECONDS);
            Outcome survivor = outcomes.get(1 - victim).get(5, TimeUnit.SECONDS);
            assertTrue(cancelled.cancelled(), "victim " + victim + ": " + cancelled);
            assertTrue(cancelled.millis() < 1900, "the cancel took effect only after " + cancelled.millis() + " ms");
            assertEquals("done-" + (1 - victim), survivor.value(), "the other client: " + survivor);
            assertTrue(survivor.millis() >= 1900, "the other client's sleep ended early: " + survivor);
            // both connections keep working
            for (int i = 0; i < 2; i++) {
                assertEquals("ok" + i, run(clients[i], "select 'ok" + i + "'").get(5, TimeUnit.SECONDS).value());
            }
        }
    }

    /**
     * PgBouncer PR #717: A's query is over and its backend serves B; a cancel sent with A's key now must not reach
     * B's query on that backend (pool size 1).
     */
    @Test
    void lateCancelDoesNotHitTheNextClient() throws Exception {
        proxy = TestProxy.start(1);
        try (Connection su = TestCluster.directSuperuser("app");
             Connection a = proxy.connect("ApplicationName", "cancelit-a");
             Connection b = proxy.connect("ApplicationName", "cancelit-b")) {
            Outcome quick = run(a, "select pg_backend_pid()::text").get(5, TimeUnit.SECONDS);
            assertNotNull(quick.value(), quick.toString());
            Future<Outcome> sleeping = run(b, "select pg_backend_pid()::text from pg_sleep(2) /* cancelit-late */");
            awaitRunning(su, "cancelit-late", 1);
            a.unwrap(PGConnection.class).cancelQuery(); // pgjdbc sends it although A runs nothing
            Thread.sleep(100);
            a.unwrap(PGConnection.class).cancelQuery();
            Outcome slow = sleeping.get(5, TimeUnit.SECONDS);
            assertEquals(quick.value(), slow.value(), "B ran on A's former backend (pool size 1): " + slow);
            assertTrue(slow.millis() >= 1900, "B's sleep ended early: " + slow);
            // A is unaffected as well
            assertEquals("1", run(a, "select 1::text").get(5, TimeUnit.SECONDS).value());
        }
    }

    /**
     * B's query waits for the only pool connection (A holds it in a transaction) when B cancels it: the cancel is kept
     * and sent once the query runs, so B gets 57014 instead of sleeping 10 s, and both sessions stay usable.
     */
    @Test
    void aCancelWhileTheQueryWaitsForAConnectionCancelsItOnceItRuns() throws Exception {
        proxy = TestProxy.start(1);
        try (Connection a = proxy.connect("ApplicationName", "cancelit-holder");
             Connection b = proxy.connect("ApplicationName", "cancelit-queued")) {
            a.setAutoCommit(false);
            assertEquals("1", run(a, "select 1::text").get(5, TimeUnit.SECONDS).value());
            Future<Outcome> queued = run(b, "select 'slept' from pg_sleep(10) /* cancelit-queued */");
            Thread.sleep(300); // B's query is in pgbalancer, waiting for A's connection
            assertTrue(!queued.isDone(), "B's query did not wait for the connection A holds");
            b.unwrap(PGConnection.class).cancelQuery();
            Thread.sleep(200);
            a.commit();
            Outcome o = queued.get(15, TimeUnit.SECONDS);
            assertTrue(o.cancelled(), "the cancel sent while B's query waited was lost: " + o);
            assertTrue(o.millis() < 8_000, "B's query ran to its end before the cancel: " + o);
            assertEquals("1", run(b, "select 1::text").get(5, TimeUnit.SECONDS).value());
            assertEquals("2", run(a, "select 2::text").get(5, TimeUnit.SECONDS).value());
            a.commit();
        }
    }

    /** A cancel from a client that holds its backend in an idle transaction cancels nothing and breaks nothing. */
    @Test
    void cancelWhileIdleInTransactionIsHarmless() throws Exception {
        proxy = TestProxy.start(1);
        try (Connection a = proxy.connect("ApplicationName", "cancelit-idle-tx")) {
            a.setAutoCommit(false);
            assertEquals("1", run(a, "select 1::text").get(5, TimeUnit.SECONDS).value());
            a.unwrap(PGConnection.class).cancelQuery();
            Thread.sleep(200);
            Outcome next = run(a, "select 'still here' from pg_sleep(0.5)").get(5, TimeUnit.SECONDS);
            assertEquals("still here", next.value(), next.toString());
            a.commit();
        }
    }

    /**
     * Race version of the late cancel: A fires quick queries while its cancels are sent at random moments; B's
     * sleeps share the single backend with A and must never be cancelled (A's own queries may be).
     */
    @Test
    void cancelsRacingQueryEndNeverHitAnotherClient() throws Exception {
        proxy = TestProxy.start(1);
        try (Connection a = proxy.connect("ApplicationName", "cancelit-race-a");
             Connection b = proxy.connect("ApplicationName", "cancelit-race-b")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger bRuns = new AtomicInteger();
            AtomicInteger bCancelled = new AtomicInteger();
            AtomicInteger aCancelled = new AtomicInteger();
            List<String> bOther = new java.util.concurrent.CopyOnWriteArrayList<>();
            Future<?> aLoop = bg.submit(() -> {
                while (!stop.get()) {
                    Outcome o = run(a, "select 'a' from pg_sleep(0.01)").get();
                    if (o.cancelled()) {
                        aCancelled.incrementAndGet();
                    }
                }
                return null;
            });
            Future<?> bLoop = bg.submit(() -> {
                while (!stop.get()) {
                    Outcome o = run(b, "select 'b' from pg_sleep(0.05)").get();
                    bRuns.incrementAndGet();
                    if (o.cancelled()) {
                        bCancelled.incrementAndGet();
                    } else if (!"b".equals(o.value())) {
                        bOther.add(o.toString());
                    }
                }
                return null;
            });
            Future<?> canceller = bg.submit(() -> {
                java.util.Random rnd = new java.util.Random(717);
                while (!stop.get()) {
                    a.unwrap(PGConnection.class).cancelQuery();
                    Thread.sleep(rnd.nextInt(15));
                }
                return null;
            });
            Thread.sleep(3000);
            stop.set(true);
            aLoop.get(10, TimeUnit.SECONDS);
            bLoop.get(10, TimeUnit.SECONDS);
            canceller.get(10, TimeUnit.SECONDS);
            assertTrue(bRuns.get() > 10, "B ran only " + bRuns.get() + " queries");
            assertTrue(aCancelled.get() > 0, "none of A's cancels landed, the race was not exercised");
            assertEquals(List.of(), bOther);
            assertEquals(0, bCancelled.get(), "B's queries cancelled by A's cancel requests (A: " + aCancelled.get()
                    + " cancelled, B: " + bRuns.get() + " runs)");
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
    }
}

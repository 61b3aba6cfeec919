// purpose: test helper for FaultMatrixIT: one case of the fault matrix: when its fault began and ended, the checks
// that follow every case (with the load paused between transactions) and its line of the results table.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

final class FaultCase {
    interface Body {
        void run(FaultCase c) throws Exception;
    }

    final String fault;
    private final MixedLoad load;
    final LoadStats.Totals before;
    final long begunNanos = System.nanoTime();
    long faultNanos = begunNanos;
    String injected = "";
    /** How long the system took to get over the fault, as the case measures it (its own words and figures). */
    String recovery = "";
    /** Appended to what the load's clients saw: what the case's own clients saw. */
    String clientsSawToo = "";
    String measured = "";

    private FaultCase(String fault, MixedLoad load) {
        this.fault = fault;
        this.load = load;
        this.before = load.stats();
        load.resetSlowest();
    }

    void faultNow() {
        faultNanos = System.nanoTime();
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    /**
     * Runs one case under load, then the checks that follow every case, with the load paused between transactions:
     * no wrong-client result, no backend idle in transaction, pgbalancer's connections and the servers' agree, pools
     * at baseline, every committed row intact. Records the case's line of the table, failed or not; on a failure
     * prints what pgbalancer and the load's clients were doing.
     */
    static void run(String fault, Duration baselineWithin, MixedLoad load, FaultChecks checks, Body body)
            throws Exception {
        FaultCase c = new FaultCase(fault, load);
        String after = "-";
        String result = "pass";
        try {
            body.run(c);
            load.pause();
            long paused = System.nanoTime();
            long baselineAt = checks.awaitBaseline(baselineWithin, load.openConnections());
            long polled = TimeUnit.NANOSECONDS.toMillis(baselineAt - paused);
            assertEquals(List.of(), List.copyOf(load.wrong), "wrong-client results");
            int rows = checks.assertCommittedRowsIntact(load.committed());
            after = "0 idle in transaction, connections agree, pools at baseline " + (polled < 100 ? "at once"
                    : "after " + polled + " ms") + "; " + rows + " committed rows intact";
        } catch (Throwable e) {
            result = "FAIL: " + e.getMessage();
            System.out.println("fault matrix: " + fault + " failed; load clients: " + load.describeClients());
            for (String command : List.of("SHOW CLIENTS", "SHOW POOLS", "SHOW SERVERS", "SHOW BACKENDS")) {
                try {
                    checks.admin(command).forEach(r -> System.out.println("fault matrix:   " + command + " " + r));
                } catch (Exception diagnosticsFailed) {
                    System.out.println("fault matrix:   " + command + " failed: " + diagnosticsFailed);
                }
            }
            load.failures.stream().filter(f -> f.nanos() - c.begunNanos >= 0).limit(30)
                    .forEach(f -> System.out.println("fault matrix:   client failure " + f));
            throw e;
        } finally {
            LoadStats.Totals d = load.stats().minus(c.before);
            String saw = "writes " + d.writes() + " ok, reads " + d.reads() + " ok; longest time without a"
                    + " completed write " + load.longestWriteGapMillis() + " ms, read " + load.longestReadGapMillis()
                    + " ms; errors: " + load.describeFailures(c.begunNanos) + c.clientsSawToo;
            checks.results.add(new FaultChecks.Result(c.fault, c.injected, saw, d.wrong(), c.recovery, after,
                    c.measured, result));
            System.out.printf("fault matrix: %s | %s | %s | wrong %d | %s | %s | %s | %s%n", c.fault, c.injected,
                    saw, d.wrong(), c.recovery, after, c.measured, result);
            load.resume();
        }
    }
}

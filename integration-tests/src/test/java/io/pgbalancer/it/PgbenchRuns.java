// purpose: test helper for FaultMatrixIT: pgbench through pgbalancer in the background during a fault, what it
// reported, and whether its tpcb-like transactions stayed all-or-nothing.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Every method is a no-op that says so when the PostgreSQL binaries have no pgbench. */
final class PgbenchRuns {
    private final Optional<Path> pgbench;
    private final TestProxy proxy;
    private final Path dir;

    PgbenchRuns(Optional<Path> pgbench, TestProxy proxy, Path dir) {
        this.pgbench = pgbench;
        this.proxy = proxy;
        this.dir = dir;
    }

    /** pgbench -i (scale 1) in database app. */
    void init() throws Exception {
        if (pgbench.isPresent()) {
            PsqlIT.Result init = PgbenchIT.run(pgbench.get(), proxy, "app", dir, "-i", "-s", "1", "-q");
            assertEquals(0, init.exit(), init.describe());
        }
    }

    CompletableFuture<PsqlIT.Result> start(String... args) {
        if (pgbench.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return PgbenchIT.run(pgbench.get(), proxy, "app", dir, args);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** "; pgbench N transactions, exit 0" (or the exit code and the first abort) once the run is over. */
    static String outcome(CompletableFuture<PsqlIT.Result> bench) throws Exception {
        PsqlIT.Result r = bench.get(60, TimeUnit.SECONDS);
        if (r == null) {
            return "; (no pgbench)";
        }
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(r.stdout());
        String processed = m.find() ? m.group(1) : "?";
        String status = r.exit() == 0 ? "exit 0" : "exit " + r.exit() + " (" + r.stderr().lines()
                .filter(l -> l.contains("aborted") || l.contains("error")).findFirst().orElse("").trim() + ")";
        return "; pgbench " + processed + " transactions, " + status;
    }

    /** pgbench's tpcb-like transactions are all or nothing: the balances on {@code jdbcUrl} agree with the history. */
    String assertBalancesAgree(String jdbcUrl) throws Exception {
        if (pgbench.isEmpty()) {
            return "";
        }
        try (Connection su = DriverManager.getConnection(jdbcUrl, "postgres", ""); Statement st = su.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
                     + " (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches),"
                     + " (SELECT coalesce(sum(delta), 0) FROM pgbench_history),"
                     + " (SELECT count(*) FROM pgbench_history)")) {
            rs.next();
            long history = rs.getLong(4);
            assertEquals(history, rs.getLong(1), "pgbench accounts against history");
            assertEquals(history, rs.getLong(2), "pgbench tellers against history");
            assertEquals(history, rs.getLong(3), "pgbench branches against history");
            return "; pgbench balances agree with its " + rs.getLong(5) + " history rows";
        }
    }
}

// purpose: no write ever reaches a replica (pgbench, transactions, read-then-write pipelines), measured on the servers.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgbalancer.cluster.LocalCluster;
import io.pgbalancer.it.RoutingClassifierIT.RawClient;
import io.pgbalancer.it.RoutingDistributionIT.Counters;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where writes ran is read from PostgreSQL: {@code inet_server_port()} in results, and the test database's
 * {@code pg_stat_database} counters on each server. A standby replays the primary's WAL without counting the replayed
 * rows in its own tup_inserted/updated/deleted (checked first, with a direct write on the primary), so on a replica
 * those counters can only move if a client wrote there, which a standby refuses; a refused write also aborts a
 * transaction there, so the replicas' xact_rollback must not move either. That matters because the proxy re-runs a
 * read refused with 25006 on the primary: a misrouted write would still succeed, but not without a rollback on a
 * replica.
 */
class RoutingWritesIT {
    private static final String DB = "routing_writes_it";
    private static final String POOL = "pool: {mode: transaction, size: 4, checkout_timeout: 10s}\n";
    private static final Pattern PROCESSED =
            Pattern.compile("number of transactions actually processed: (\\d+)(?:/(\\d+))?");

    @TempDir
    Path dir;

    @BeforeAll
    static void createDatabase() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database if exists " + DB + " with (force)");
            st.execute("create database " + DB + " owner app");
        }
        try (Connection c = appOnPrimary(); Statement st = c.createStatement()) {
            st.execute("create table w (id int primary key, note text)");
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
    }

    // ------------------------------------------------------------------------------------------------ counters

    @Test
    void replicasDoNotCountReplayedWritesInPgStatDatabase() throws Exception {
        LocalCluster cl = TestCluster.get();
        Map<Integer, Counters> before = RoutingDistributionIT.counters(DB);
        try (Connection c = appOnPrimary(); Statement st = c.createStatement()) {
            st.execute("insert into w select g, 'direct' from generate_series(100000, 100499) g");
            st.execute("update w set note = 'updated' where id between 100000 and 100099");
            st.execute("delete from w where id between 100400 and 100449");
        } // the backend exits and flushes its statistics
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
        Map<Integer, Counters> delta = RoutingDistributionIT.settledDeltas(DB, before, d -> {
            Counters p = d.get(cl.primaryPort());
            return p.inserted() >= 500 && p.updated() >= 100 && p.deleted() >= 50;
        });
        for (int port : cl.replicaPorts()) {
            try (Connection c = DriverManager.getConnection(cl.jdbcUrl(port, DB), "postgres", "");
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*) from w where id between 100000 and 100499")) {
                rs.next();
                assertEquals(450, rs.getLong(1), "replica " + port + " replayed the direct writes");
            }
            Counters r = delta.get(port);
            assertEquals(0, r.inserted() + r.updated() + r.deleted(),
                    "replica " + port + " counted replayed rows: " + r + " (primary: " + delta.get(cl.primaryPort())
                            + ")");
        }
    }

    @Test
    void pgbenchTpcbLikeWritesOnlyOnThePrimary() throws Exception {
        Optional<Path> pgbench = TestCluster.get().binaries().find("pgbench");
        assumeTrue(pgbench.isPresent(), "pgbench is not available with these PostgreSQL binaries");
        LocalCluster cl = TestCluster.get();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            PsqlIT.Result init = pgbench(pgbench.get(), proxy, "-i", "-s", "1", "-q");
            assertEquals(0, init.exit(), "pgbench -i through the proxy: " + init.describe());
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30)); // pgbench's first query is a read, on a replica
        Map<Integer, Counters> before = RoutingDistributionIT.settledDeltas(DB, Map.of(), d -> true);

        PsqlIT.Result run;
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            run = pgbench(pgbench.get(), proxy, "-n", "-c", "8", "-j", "2", "-T", "5");
        } // shutting the proxy down makes its backends exit and flush their statistics
        assertEquals(0, run.exit(), run.describe());
        assertTrue(run.stdout().contains("number of failed transactions: 0 ("), run.describe());
        Matcher m = PROCESSED.matcher(run.stdout());
        assertTrue(m.find(), run.describe());
        long tx = Long.parseLong(m.group(1));
        assertTrue(tx > 0, run.describe());

        Map<Integer, Counters> delta = RoutingDistributionIT.settledDeltas(DB, before,
                d -> d.get(cl.primaryPort()).commits() >= tx);
        System.out.println("[routing-writes] pgbench tpcb-like: " + tx + " transactions; pg_stat_database deltas by"
                + " port (primary " + cl.primaryPort() + "): " + delta);
        Counters primary = delta.get(cl.primaryPort());
        assertTrue(primary.updated() >= 3 * tx, "3 updates per transaction on the primary: " + primary);
        assertTrue(primary.inserted() >= tx, "1 history row per transaction on the primary: " + primary);
        long replicaCommits = 0;
        for (int port : cl.replicaPorts()) {
            Counters r = delta.get(port);
            assertEquals(0, r.inserted(), "rows inserted on replica " + port + ": " + r);
            assertEquals(0, r.updated(), "rows updated on replica " + port + ": " + r);
            assertEquals(0, r.deleted(), "rows deleted on replica " + port + ": " + r);
            assertEquals(0, r.rollbacks(), "aborted transactions (a refused write) on replica " + port + ": " + r);
            replicaCommits += r.commits();
        }
        assertTrue(replicaCommits >= 1, "pgbench's startup read ran on a replica, so they were in use: " + delta);

        try (Connection c = TestCluster.directSuperuser(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select (select sum(abalance) from pgbench_accounts),"
                     + " (select sum(delta) from pgbench_history), (select sum(tbalance) from pgbench_tellers),"
                     + " (select sum(bbalance) from pgbench_branches), (select count(*) from pgbench_history)")) {
            rs.next();
            long accounts = rs.getLong(1);
            assertEquals(accounts, rs.getLong(2), "sum(abalance) vs sum(history.delta)");
            assertEquals(accounts, rs.getLong(3), "sum(abalance) vs sum(tbalance)");
            assertEquals(accounts, rs.getLong(4), "sum(abalance) vs sum(bbalance)");
            assertEquals(tx, rs.getLong(5), "one history row per processed transaction");
        }
    }

    // ------------------------------------------------------------------------------------------------ transactions

    @Test
    void writesInsideAPlainTransactionRunOnThePrimary() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            int id = 1;
            for (String mode : List.of("extended", "simple")) {
                try (Connection c = connect(proxy, "preferQueryMode", mode); Statement st = c.createStatement()) {
                    for (int n = 0; n < 5; n++, id++) {
                        c.setAutoCommit(false);
                        List<String> servers = new ArrayList<>();
                        servers.add(server(st, "SELECT inet_server_port(), pg_backend_pid()")); // a read comes first
                        servers.add(server(st, "INSERT INTO w VALUES (" + id + ", 'tx') RETURNING inet_server_port(),"
                                + " pg_backend_pid()"));
                        servers.add(server(st, "SELECT inet_server_port(), pg_backend_pid() FROM w WHERE id = " + id));
                        servers.add(server(st, "UPDATE w SET note = 'tx2' WHERE id = " + id
                                + " RETURNING inet_server_port(), pg_backend_pid()"));
                        c.commit();
                        c.setAutoCommit(true);
                        assertEquals(1, servers.stream().distinct().count(), mode + ": one backend: " + servers);
                        assertTrue(servers.get(0).startsWith(cl.primaryPort() + "/"), mode + ": " + servers);
                    }
                }
            }
            assertEquals(10, countOnPrimary("SELECT count(*) FROM w WHERE id BETWEEN 1 AND 10 AND note = 'tx2'"));
        }
    }

    /** One simple Query holding a read and then a write is classified as a whole: it all runs on the primary. */
    @Test
    void readThenWriteInOneSimpleQueryRunsOnThePrimary() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL);
             Connection c = connect(proxy, "preferQueryMode", "simple"); Statement st = c.createStatement()) {
            List<Integer> ports = allPorts(st, "SELECT inet_server_port(); INSERT INTO w VALUES (20, 'simple')"
                    + " RETURNING inet_server_port()");
            assertEquals(List.of(cl.primaryPort(), cl.primaryPort()), ports);
        }
        try (TestProxy proxy = TestProxy.startWithReplicas(RoutingClassifierIT.TRUST_PROXY);
             RawClient raw = RawClient.connect(proxy.port(), "app", DB)) {
            RawClient.Cycle r = raw.simpleQuery("SELECT inet_server_port(); INSERT INTO w VALUES (21, 'raw simple')"
                    + " RETURNING inet_server_port()");
            assertNull(r.error(), "" + r.error());
            assertEquals(List.of(List.of("" + cl.primaryPort()), List.of("" + cl.primaryPort())), r.rows());
        }
        assertEquals(2, countOnPrimary("SELECT count(*) FROM w WHERE id IN (20, 21)"));
    }

    /**
     * A client pipelines a read cycle and then a write cycle without waiting: the read runs on a replica; the write,
     * a new cycle that must not run there, waits until the replica is done and then runs on the primary. Reads
     * pipelined after the write may stay on the primary with it (they then see the write), or go to a replica.
     */
    @Test
    void pipelinedReadThenWriteSendsTheWriteToThePrimary() throws Exception {
        long refusedBefore = writesRefusedOnReplicas();
        try (TestProxy proxy = TestProxy.startWithReplicas(RoutingClassifierIT.TRUST_PROXY);
             RawClient raw = RawClient.connect(proxy.port(), "app", DB)) {
            List<RawClient.Cycle> simple = raw.pipeline(List.of(
                    RawClient.queryCycle("SELECT inet_server_port()"),
                    RawClient.queryCycle("INSERT INTO w VALUES (30, 'pipelined Q') RETURNING inet_server_port()"),
                    RawClient.queryCycle("SELECT inet_server_port()")));
            assertPorts(simple, "replica", "primary", "primary|replica");

            List<RawClient.Cycle> extended = raw.pipeline(List.of(
                    RawClient.extendedCycle("SELECT inet_server_port()"),
                    RawClient.extendedCycle("INSERT INTO w VALUES (31, 'pipelined P/B/E/S')"
                            + " RETURNING inet_server_port()"),
                    RawClient.extendedCycle("SELECT inet_server_port()"),
                    RawClient.extendedCycle("UPDATE w SET note = 'again' WHERE id = 31 RETURNING inet_server_port()")));
            assertPorts(extended, "replica", "primary", "primary|replica", "primary");
        }
        assertEquals(2, countOnPrimary("SELECT count(*) FROM w WHERE id IN (30, 31)"));
        assertEquals(refusedBefore, writesRefusedOnReplicas(), "writes refused by a replica (then replayed)");
    }

    /**
     * pgjdbc sends "SELECT …; INSERT …" in its default extended mode as Parse/Bind/Execute twice and ONE Sync: one
     * cycle, one implicit transaction. The write in it must run on the primary like the rest of the cycle.
     */
    @Test
    void readThenWriteInOneExtendedProtocolCycleRunsOnThePrimary() throws Exception {
        LocalCluster cl = TestCluster.get();
        List<String> problems = new ArrayList<>();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL); Connection c = connect(proxy);
             Statement st = c.createStatement()) {
            try {
                List<Integer> ports = allPorts(st, "SELECT inet_server_port(); INSERT INTO w VALUES (40, 'pgjdbc')"
                        + " RETURNING inet_server_port()");
                if (!ports.equals(List.of(cl.primaryPort(), cl.primaryPort()))) {
                    problems.add("pgjdbc: ran on ports " + ports + " (primary " + cl.primaryPort() + ")");
                }
            } catch (SQLException e) {
                problems.add("pgjdbc: SQLSTATE " + e.getSQLState() + " " + e.getMessage());
            }
        }
        try (TestProxy proxy = TestProxy.startWithReplicas(RoutingClassifierIT.TRUST_PROXY);
             RawClient raw = RawClient.connect(proxy.port(), "app", DB)) {
            RawClient.Cycle r = raw.extended(List.of("SELECT inet_server_port()",
                    "INSERT INTO w VALUES (41, 'raw') RETURNING inet_server_port()"), List.of());
            if (r.error() != null) {
                problems.add("raw P/B/E P/B/E S: " + r.error().get('C') + " " + r.error().get('M') + " after rows "
                        + r.rows());
            } else if (!r.rows().equals(List.of(List.of("" + cl.primaryPort()), List.of("" + cl.primaryPort())))) {
                problems.add("raw P/B/E P/B/E S: ran on ports " + r.rows());
            }
        }
        assertTrue(problems.isEmpty(), "a write after a read in the same extended-protocol cycle: " + problems);
        assertEquals(2, countOnPrimary("SELECT count(*) FROM w WHERE id IN (40, 41)"));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void assertPorts(List<RawClient.Cycle> cycles, String... expected) {
        LocalCluster cl = TestCluster.get();
        List<String> actual = new ArrayList<>();
        for (RawClient.Cycle r : cycles) {
            if (r.error() != null) {
                actual.add("error " + r.error().get('C') + " " + r.error().get('M'));
                continue;
            }
            int port = Integer.parseInt(r.rows().get(r.rows().size() - 1).get(0));
            actual.add(port == cl.primaryPort() ? "primary" : cl.replicaPorts().contains(port) ? "replica" : "" + port);
        }
        boolean ok = actual.size() == expected.length;
        for (int i = 0; ok && i < expected.length; i++) {
            ok = actual.get(i).matches(expected[i]);
        }
        System.out.println("[routing-writes] pipelined cycles ran on " + actual);
        assertTrue(ok, "expected " + List.of(expected) + ", got " + actual);
    }

    /** ERRORs "in a read-only transaction" the replicas logged for statements on a table w (this class's). */
    private static long writesRefusedOnReplicas() throws Exception {
        // No wait needed: without a logging collector a backend writes an ERROR and its STATEMENT line to the log
        // (stderr, which pg_ctl -l sends to the file) in one write() before it sends the ErrorResponse, so every
        // refusal is in the file before the proxy, and so the client, has its answer.
        LocalCluster cl = TestCluster.get();
        long n = 0;
        for (int i = 0; i < cl.replicaPorts().size(); i++) {
            List<String> lines = java.nio.file.Files.readAllLines(cl.serverLog(i));
            for (int k = 0; k + 1 < lines.size(); k++) {
                if (lines.get(k).contains("in a read-only transaction") && lines.get(k + 1).contains(" w ")) {
                    n++;
                }
            }
        }
        return n;
    }

    private PsqlIT.Result pgbench(Path pgbench, TestProxy proxy, String... args) throws Exception {
        return PgbenchIT.run(pgbench, proxy, DB, dir, args);
    }

    private static String server(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            return rs.getInt(1) + "/" + rs.getInt(2);
        }
    }

    /** The first column of every result of a multi-statement text. */
    private static List<Integer> allPorts(Statement st, String sql) throws SQLException {
        List<Integer> ports = new ArrayList<>();
        boolean isResult = st.execute(sql);
        while (true) {
            if (isResult) {
                try (ResultSet rs = st.getResultSet()) {
                    while (rs.next()) {
                        ports.add(rs.getInt(1));
                    }
                }
            } else if (st.getUpdateCount() == -1) {
                return ports;
            }
            isResult = st.getMoreResults();
        }
    }

    private static Connection connect(TestProxy proxy, String... keyValues) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    private static Connection appOnPrimary() throws SQLException {
        LocalCluster cl = TestCluster.get();
        return DriverManager.getConnection(cl.jdbcUrl(cl.primaryPort(), DB), "app", TestCluster.APP_PASSWORD);
    }

    private static long countOnPrimary(String sql) throws SQLException {
        try (Connection c = TestCluster.directSuperuser(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

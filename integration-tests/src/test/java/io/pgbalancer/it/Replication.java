// Waiting until the streaming replicas have replayed what the primary has written so far.
package io.pgbalancer.it;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

public final class Replication {
    private Replication() {
    }

    /**
     * Waits until every replica of the test cluster has replayed the primary's WAL up to its current position, so
     * that everything committed on the primary before the call is visible on every replica. Reads the positions
     * directly (superuser {@code postgres}, database {@code postgres}), so no test database's counters move.
     *
     * @throws AssertionError naming the replica and the positions when one has not caught up within {@code timeout}
     */
    public static void awaitReplicasCaughtUp(Duration timeout) throws Exception {
        LocalCluster cl = TestCluster.get();
        long deadline = System.nanoTime() + timeout.toNanos();
        String target = flushedPrimaryLsn();
        for (int port : cl.replicaPorts()) {
            try (Connection c = DriverManager.getConnection(cl.jdbcUrl(port, "postgres"), "postgres", "");
                 Statement st = c.createStatement()) {
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                Poll.untilValue(left, "replica on port " + port + " to replay the primary's WAL up to " + target,
                        () -> replay(st, target), Replay::caughtUp);
            }
        }
    }

    /**
     * The primary's WAL flush position once everything committed so far is flushed. The test cluster runs with
     * {@code synchronous_commit = off}: a commit may still sit in the WAL buffers, beyond the write position that
     * {@code pg_current_wal_lsn()} reports, and walsenders send replicas only flushed WAL. A transaction that writes
     * WAL and commits with {@code synchronous_commit = on} flushes the WAL up to its own commit record, so every
     * earlier commit too. (One that only takes an xid, like {@code select txid_current()}, writes its commit record
     * but does not flush it; a transactional logical message writes WAL without touching any table.)
     */
    private static String flushedPrimaryLsn() throws SQLException {
        try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("set synchronous_commit = on");
            st.execute("select pg_logical_emit_message(true, 'pgbalancer-it', 'replicas catch up')");
            try (ResultSet rs = st.executeQuery("select pg_current_wal_flush_lsn()")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Where a replica's replay stands, and whether that is at or past the target. */
    private record Replay(String lsn, boolean caughtUp) {
        @Override
        public String toString() {
            return lsn == null ? "nothing replayed" : "replayed up to " + lsn;
        }
    }

    private static Replay replay(Statement st, String target) throws SQLException {
        try (ResultSet rs = st.executeQuery("select pg_last_wal_replay_lsn(),"
                + " coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '" + target + "'::pg_lsn) >= 0, false)")) {
            rs.next();
            return new Replay(rs.getString(1), rs.getBoolean(2));
        }
    }

    /** Pauses (or resumes) WAL replay on the replica at {@code port}, as superuser on a direct connection. */
    public static void pauseReplay(int port, boolean pause) throws SQLException {
        try (Connection c = DriverManager.getConnection(TestCluster.get().jdbcUrl(port, "app"), "postgres", "");
             Statement st = c.createStatement()) {
            st.execute(pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()");
        }
    }

    /** Pauses (or resumes) WAL replay on every replica of the test cluster. */
    public static void pauseReplayEverywhere(boolean pause) throws SQLException {
        for (int port : TestCluster.get().replicaPorts()) {
            pauseReplay(port, pause);
        }
    }
}

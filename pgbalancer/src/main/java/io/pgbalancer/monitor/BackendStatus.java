// What the monitor last saw of one backend: reachable or not, its role, WAL positions and lag behind the primary.
package io.pgbalancer.monitor;

/**
 * An immutable snapshot, replaced after every poll.
 *
 * @param reachable        the last poll answered
 * @param inRecovery       pg_is_in_recovery(): a standby
 * @param lsn              on a standby pg_last_wal_replay_lsn(), on the primary pg_current_wal_lsn() (0 when unknown)
 * @param receiveLsn       pg_last_wal_receive_lsn() on a standby, 0 otherwise
 * @param replayTimeMillis pg_last_xact_replay_timestamp() as epoch milliseconds, -1 when none
 * @param lagBytes         WAL bytes this standby has not replayed yet, against the primary's last known position
 * @param lagNanos         how old the newest write this standby is missing can be (0 when it has replayed everything
 *                         the primary was known to have)
 * @param polledAtNanos    System.nanoTime() of the poll
 * @param lastSuccessMillis wall-clock time of the last poll that answered, 0 when none did
 * @param error            why the last poll failed, null when it answered
 */
public record BackendStatus(boolean reachable, boolean inRecovery, long lsn, long receiveLsn, long replayTimeMillis,
                            long lagBytes, long lagNanos, long polledAtNanos, long lastSuccessMillis, String error) {
    /** Before the first poll: nothing known, and no replica position to rely on. */
    public static final BackendStatus UNKNOWN = new BackendStatus(false, false, 0, 0, -1, 0, 0, 0, 0, "not polled yet");

    public BackendStatus failed(String why, long nanos) {
        return new BackendStatus(false, inRecovery, lsn, receiveLsn, replayTimeMillis, lagBytes, lagNanos, nanos,
                lastSuccessMillis, why);
    }
}

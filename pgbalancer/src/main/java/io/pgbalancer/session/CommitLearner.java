// Learns the WAL position of every commit of a transaction that may have written, before the client hears of it.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.causal.Lsn;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.sql.Classification;
import java.nio.charset.StandardCharsets;

/**
 * After a transaction routed to the primary as a write ends (ReadyForQuery 'I'), a hidden
 * {@code SELECT pg_current_wal_insert_lsn()} on the same backend returns a position at or after the end of its
 * COMMIT record. The client's ReadyForQuery is held until the answer is in, so no read that follows the client's
 * commit, on any connection, can be routed before the commit's position is known.
 * <p>
 * An autocommit cycle (it starts outside a transaction, nothing else is owed, and none of its statements is
 * transaction control) is known to end outside a transaction, so the hidden query is sent right behind it and costs
 * no extra round trip. Otherwise it is sent when the ReadyForQuery 'I' arrives: never inside the client's
 * transaction, where a statement would take the transaction's snapshot. A ReadyForQuery 'I' with more answers owed
 * behind it (a client pipelining transactions) cannot be held without reordering; its position is learned with the
 * next one.
 */
final class CommitLearner {
    static final String SQL = "SELECT pg_current_wal_insert_lsn()";

    private final ClientSession s;
    private final BackendLease lease;
    private final ResponseTracker tracker;
    /** The cycle being sent is autocommit on a write lease: the hidden query can follow it at once. */
    private boolean autocommitCycle;
    /** Status of the client's ReadyForQuery held until the position is in; 0 when none is held. */
    private char held;
    private long learned;

    CommitLearner(ClientSession session) {
        this.s = session;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
    }

    // --- client side: the autocommit shortcut

    /** A cycle starts; call before anything of it is tracked. */
    void cycleStarts() {
        autocommitCycle = lease.mayHaveWritten() && s.causality.learnsCommits() && tracker.isEmpty()
                && lease.txStatus() == 'I';
    }

    /** A statement of the cycle ({@code null}: unknown, or a function call). */
    void statement(Classification c) {
        if (c == null || c.txn() != Classification.TxnControl.NONE || c.statementCount() != 1) {
            autocommitCycle = false;
        }
    }

    /** At the cycle's Sync or Query: the hidden query to send right behind it, tracked, or null. */
    ByteBuf afterCycle() {
        if (!autocommitCycle) {
            return null;
        }
        autocommitCycle = false;
        ByteBuf q = s.client.alloc().buffer(SQL.length() + 8);
        ClientMessages.query(q, SQL);
        tracker.add(Expect.COMMIT_LSN);
        return q;
    }

    // --- backend side

    /**
     * The client's ReadyForQuery with {@code status} arrived (its answers popped). Returns true when it must be held
     * back until the commit's position is in.
     *
     * @param alreadyHeld a settings restore holds it already; the position is then learned right behind the restore
     */
    boolean holdsReadyForQuery(char status, boolean alreadyHeld) {
        if (tracker.headKind() == Expect.COMMIT_LSN) {
            held = status; // sent behind the cycle, answered next
            return true;
        }
        if (status != 'I' || !lease.mayHaveWritten() || !s.causality.learnsCommits()
                || (!alreadyHeld && !tracker.isEmpty())) {
            return false;
        }
        lease.sendHidden(SQL, Expect.COMMIT_LSN, null);
        if (alreadyHeld) {
            return false;
        }
        held = status;
        return true;
    }

    /** The hidden query's DataRow: one text column. */
    void onDataRow(ByteBuf buf, int at) {
        int len = buf.getInt(at + 7);
        if (buf.getShort(at + 5) == 1 && len > 0) {
            learned = Lsn.parse(buf.toString(at + 11, len, StandardCharsets.US_ASCII));
        }
    }

    /**
     * The hidden query's ReadyForQuery: records the position (outside a transaction only) and returns the status of
     * the client's held ReadyForQuery to send now, or 0.
     */
    char onAnswered(char status) {
        if (learned != 0 && status == 'I') {
            s.causality.committed(learned);
        }
        learned = 0;
        char h = held;
        held = 0;
        return h;
    }
}

// Learns the WAL position of every commit of a transaction that may have written, before the client hears of it.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.causal.Lsn;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.sql.Classification;
import java.nio.charset.StandardCharsets;

/**
 * After a transaction routed to the primary as a write ends (ReadyForQuery 'I'), a hidden query (see {@link #SQL})
 * on the same backend returns a position at or after the end of its COMMIT record. The client's ReadyForQuery is held until the answer is in, so no read that follows the client's
 * commit, on any connection, can be routed before the commit's position is known.
 * <p>
 * Two kinds of cycle are known to end outside a transaction, so the hidden query is sent right behind them and costs
 * no extra round trip: an autocommit cycle (it starts outside a transaction and none of its statements is
 * transaction control), and a cycle that is nothing but COMMIT or ROLLBACK (without AND CHAIN) of the running
 * transaction; in both, nothing else may be owed when the cycle starts. Otherwise the hidden query is sent when the
 * ReadyForQuery 'I' arrives: never inside the client's transaction, where a statement would take the transaction's
 * snapshot. Output that came before a held ReadyForQuery waits with it, so the client is woken once. A ReadyForQuery 'I' with more answers owed
 * behind it (a client pipelining transactions) cannot be held without reordering; its position is learned with the
 * next one.
 */
final class CommitLearner {
    /**
     * With synchronous_commit on (or local, remote_write, remote_apply) the commit record was flushed before the
     * commit returned, so the flush position covers it, and replicas can always reach it: WAL inserted by others but
     * not yet flushed (a read's page pruning, written by the WAL writer up to wal_writer_delay later) is not waited
     * for. With synchronous_commit off (for the session, role, database or server) only the insert position is sure
     * to cover the commit; a transaction whose statements mention synchronous_commit (SET LOCAL, set_config) uses
     * {@link #ASYNC_SQL}.
     */
    static final String SQL = "SELECT (CASE WHEN current_setting('synchronous_commit') = 'off'"
            + " THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_flush_lsn() END)::text";
    /** The server-side name of {@link #SQL}, prepared on a connection the first time it is needed there. */
    static final String STATEMENT = "pgbalancer_commit_position";
    /** After a transaction that mentioned synchronous_commit (SET LOCAL is gone once it commits). */
    static final String ASYNC_SQL = "SELECT pg_current_wal_insert_lsn()::text";

    private final ClientSession s;
    private final BackendLease lease;
    private final ResponseTracker tracker;
    /** The cycle being sent is autocommit on a write lease: the hidden query can follow it at once. */
    private boolean autocommitCycle;
    /** The cycle started inside a transaction: only a COMMIT or ROLLBACK of it qualifies. */
    private boolean inTransaction;
    /** A statement of the lease's transaction may have turned synchronous_commit off for it. */
    private boolean asyncCommit;
    /** Status of the client's ReadyForQuery held until the position is in; 0 when none is held. */
    private char held;
    private long learned;
    private int failedAttempts;
    private static final int MAX_ATTEMPTS = 3;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CommitLearner.class);

    CommitLearner(ClientSession session) {
        this.s = session;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
    }

    // --- client side: the autocommit shortcut

    /** A cycle starts; call before anything of it is tracked. */
    void cycleStarts() {
        autocommitCycle = lease.mayHaveWritten() && s.causality.learnsCommits() && tracker.isEmpty();
        inTransaction = lease.txStatus() != 'I';
    }

    /** A statement of the cycle ({@code null}: unknown, or a function call). */
    void statement(Classification c) {
        if (c == null || c.statementCount() != 1 || (inTransaction ? !endsTransaction(c.txn())
                : c.txn() != Classification.TxnControl.NONE)) {
            autocommitCycle = false;
        }
    }

    private static boolean endsTransaction(Classification.TxnControl txn) {
        return txn == Classification.TxnControl.COMMIT || txn == Classification.TxnControl.ROLLBACK;
    }

    /**
     * The text of a statement of the cycle, from {@code from} to {@code end}. A COPY may leave the server waiting for
     * the client's data, where a query of pgbalancer's would break the protocol: its position is learned after its
     * ReadyForQuery instead.
     */
    void statementText(ByteBuf buf, int from, int end) {
        if (!lease.mayHaveWritten()) {
            return;
        }
        if (autocommitCycle && (startsWithCopy(buf, from, end) || (inTransaction && mentions(buf, from, end, "chain")))) {
            autocommitCycle = false;
        }
        if (!asyncCommit && mentions(buf, from, end, "synchronous_commit")) {
            asyncCommit = true; // SET LOCAL or set_config(..., true): the commit may not be flushed
        }
    }

    /** Whether the text contains {@code lowerWord} (ASCII, lower case) anywhere, ignoring case. */
    static boolean mentions(ByteBuf buf, int from, int end, String lowerWord) {
        int n = lowerWord.length();
        char first = lowerWord.charAt(0);
        for (int i = from; i + n <= end; i++) {
            if (lower(buf.getByte(i)) == first) {
                int k = 1;
                while (k < n && lower(buf.getByte(i + k)) == lowerWord.charAt(k)) {
                    k++;
                }
                if (k == n) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int lower(byte b) {
        return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
    }

    /** A named statement the cycle binds: its text decides as in {@link #statementText}. */
    void namedStatement(String name) {
        if (!lease.mayHaveWritten()) {
            return;
        }
        PreparedStatements.Statement st = s.statements.get(name);
        if (st == null) {
            autocommitCycle = false;
            return;
        }
        byte[] body = st.body().bytes();
        statementText(io.netty.buffer.Unpooled.wrappedBuffer(body), 0, body.length);
    }

    /** Whether the first keyword (after spaces and comments) is COPY. */
    static boolean startsWithCopy(ByteBuf buf, int i, int end) {
        while (i < end) {
            int c = buf.getByte(i) & 0xFF;
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                i++;
            } else if (c == '-' && i + 1 < end && buf.getByte(i + 1) == '-') {
                while (i < end && buf.getByte(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < end && buf.getByte(i + 1) == '*') {
                int depth = 0;
                do { // block comments nest
                    if (buf.getByte(i) == '/' && i + 1 < end && buf.getByte(i + 1) == '*') {
                        depth++;
                        i += 2;
                    } else if (buf.getByte(i) == '*' && i + 1 < end && buf.getByte(i + 1) == '/') {
                        depth--;
                        i += 2;
                    } else {
                        i++;
                    }
                } while (depth > 0 && i < end);
            } else {
                break;
            }
        }
        if (i + 4 > end) {
            return false;
        }
        for (int k = 0; k < 4; k++) {
            if ((buf.getByte(i + k) | 0x20) != "copy".charAt(k)) {
                return false;
            }
        }
        if (i + 4 == end) {
            return true;
        }
        int next = buf.getByte(i + 4) & 0xFF;
        return !(Character.isLetterOrDigit(next) || next == '_' || next == '$' || next >= 0x80);
    }

    /** At the cycle's Sync or Query: the hidden query to send right behind it, tracked, or null. */
    ByteBuf afterCycle() {
        if (!autocommitCycle) {
            return null;
        }
        autocommitCycle = false;
        ByteBuf q = positionQuery();
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
        if (tracker.headKind() == Expect.COMMIT_LSN) { // sent behind the cycle, answered next
            if (!alreadyHeld) {
                held = status;
            }
            return !alreadyHeld; // a restore that holds it sends it after the position is in anyway
        }
        if (status != 'I' || !lease.mayHaveWritten() || !s.causality.learnsCommits()
                || (!alreadyHeld && !tracker.isEmpty())) {
            return false;
        }
        lease.sendHidden(positionQuery(), Expect.COMMIT_LSN, null);
        if (alreadyHeld) {
            return false;
        }
        held = status;
        return true;
    }

    /**
     * The position query's messages. {@link #SQL} runs as a statement prepared once per server connection (Bind,
     * Execute, Sync: no parse and plan per commit); {@link #ASYNC_SQL} as a simple query.
     */
    private ByteBuf positionQuery() {
        ByteBuf q = s.client.alloc().buffer(SQL.length() + 64);
        if (asyncCommit) {
            ClientMessages.query(q, ASYNC_SQL);
            return q;
        }
        io.pgbalancer.pool.ServerStatements server = lease.backend().statements();
        if (!server.hasPositionStatement()) {
            int len = Wire.begin(q, 'P');
            Wire.writeCString(q, STATEMENT);
            Wire.writeCString(q, SQL);
            q.writeShort(0);
            Wire.end(q, len);
            server.positionStatement(true);
        }
        int len = Wire.begin(q, 'B');
        Wire.writeCString(q, "");
        Wire.writeCString(q, STATEMENT);
        q.writeShort(0).writeShort(0).writeShort(0);
        Wire.end(q, len);
        len = Wire.begin(q, 'E');
        Wire.writeCString(q, "");
        q.writeInt(0);
        Wire.end(q, len);
        q.writeByte('S').writeInt(4);
        return q;
    }

    /** Whether a ReadyForQuery is held: output before it waits too. */
    boolean holding() {
        return held != 0;
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
            asyncCommit = false;
        } else if (failedAttempts > 0 && failedAttempts < MAX_ATTEMPTS && status == 'I') {
            lease.sendHidden(positionQuery(), Expect.COMMIT_LSN, null); // the ReadyForQuery stays held
            learned = 0;
            return 0;
        } else if (failedAttempts > 0) {
            log.warn("no commit position learned after {} attempts on {}; reads that need it may wait for the"
                    + " primary's next commit", failedAttempts, lease.backend());
        }
        failedAttempts = 0;
        learned = 0;
        char h = held;
        held = 0;
        return h;
    }

    /** The hidden query failed (a cancel of the client's that landed late): it is asked again. */
    void failed() {
        failedAttempts++;
        lease.backend().statements().positionStatement(false); // prepared again next time, should it be gone
    }
}

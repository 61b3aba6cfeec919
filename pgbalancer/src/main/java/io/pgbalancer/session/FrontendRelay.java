// Client → backend: forwards message runs untouched, decides when a cycle must wait, records the answers owed.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.routing.Target;
import io.pgbalancer.sql.Classification;

final class FrontendRelay extends FrameRelay
        implements io.netty.util.concurrent.GenericFutureListener<io.netty.util.concurrent.Future<Void>> {
    /** What became of a chunk of client input. */
    enum Outcome {
        /** Everything went to the backend. */
        SENT,
        /** A later cycle must wait (it must run elsewhere, or after answers still due): see {@link #takeHeld()}. */
        HELD,
        /** The client sent Terminate; what came before it was sent. */
        TERMINATED
    }

    private final ClientSession s;
    private final BackendLease lease;
    private final ResponseTracker tracker;
    /** Classification of the client's unnamed statement, which a Bind to "" executes. */
    private Classification unnamedStatement;
    private final Portals portals = new Portals();
    private final StatementRewriter statements;
    private Outcome outcome;
    private ByteBuf held;
    /** A settings restore to send behind the client's next Sync, Query or FunctionCall (see restoreAtSegmentEnd). */
    private String pendingRestore;
    /**
     * The last message was a Sync, Query or FunctionCall (Flushes after it do not count): the next one starts a new
     * segment, which the server processes in its normal state.
     */
    private boolean segmentStart = true;

    FrontendRelay(ClientSession session) {
        this.s = session;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
        this.statements = new StatementRewriter(session, this);
        // the client's statement names follow its read replays, and die with its connection
        lease.replay().listener(s.statements);
        s.client.closeFuture().addListener(this); // itself rather than a lambda: memory per idle client
    }

    /** The client's channel closed: its statement names die with it. */
    @Override
    public void operationComplete(io.netty.util.concurrent.Future<Void> closed) {
        s.statements.release();
    }

    /** Relays a chunk of complete client messages to the leased backend; takes ownership of {@code chunk}. */
    Outcome relay(ByteBuf chunk) {
        outcome = Outcome.SENT;
        walk(chunk);
        return outcome;
    }

    /**
     * Whether the messages sent so far end with a Sync, Query or FunctionCall: only then will the server answer all
     * of them (it sends nothing of an extended-protocol segment before its Sync or Flush, nor ever a ReadyForQuery).
     */
    boolean segmentEnded() {
        return segmentStart;
    }

    /** The input held back by the last relay that returned HELD. */
    ByteBuf takeHeld() {
        ByteBuf rest = held;
        held = null;
        return rest;
    }

    @Override
    public boolean onFrame(byte type, ByteBuf buf, int at, int length) {
        if (type == 'X') {
            // what came before Terminate still runs, as it would direct (a pipelined COMMIT commits)
            endRun(at);
            flush();
            outcome = Outcome.TERMINATED;
            return false;
        }
        if (lease.txStatus() == 'I' && lease.onReplica() && !s.pinned
                && (lease.atCycleBoundary() || startsAfterFlush(type)) && leavesReplica(buf, at)) {
            // A new cycle that must not run on this replica waits until the replica is done with the last one:
            // one transaction is never split, and no write reaches a replica. A session pinned to a replica (a hint
            // or a read-only transaction took a session lock there) stays on it: its state lives there.
            if (!lease.atCycleBoundary()) {
                endWithHiddenSync(at);
            }
            return hold(buf, at);
        }
        if (segmentStart && type != 'H' && type != 'd' && type != 'c' && type != 'f') {
            if (tracker.clientViewChanges() > 0) {
                // An earlier cycle defines or closes statement names and its answers are not in: whether a name
                // exists for this cycle depends on them (a failed Parse leaves no statement, a skipped Close leaves
                // it). Direct, the server would know; so this cycle waits for them, as a write waits for a replica.
                // Never before COPY data or Flush: the server may be inside COPY, waiting for the client.
                return hold(buf, at);
            }
            statements.housekeeping(at);
            s.commits.cycleStarts();
        }
        segmentStart = type == 'S' || type == 'Q' || type == 'F' || (segmentStart && type == 'H');
        lease.sending(type);
        if (type == 'S' || !tracker.isDiscarding()) {
            onMessage(type, buf, at, length);
        } // else: the server skips everything until Sync after an error; forward untouched, owe nothing
        return true;
    }

    /**
     * Whether the cycle at {@code at} must wait for this replica and run elsewhere: one that needs the primary, or one
     * that only changes settings (Target.ANY) while the primary takes connections, where such a cycle goes when it
     * starts a checkout. Never the cycle this lease was checked out for (nothing relayed yet): the checkout brought
     * it here for lack of a primary, and holding it would leave nothing to end the hold.
     */
    private boolean leavesReplica(ByteBuf buf, int at) {
        Target next = s.checkout.route(buf, at);
        return next == Target.PRIMARY || (next == Target.ANY && lease.relayed() && s.checkout.primaryTakesConnections());
    }

    /**
     * A Query or Parse after a Flush, outside any transaction: asyncpg prepares a read (Parse, Describe, Flush) and
     * then sends a COPY or prepares a write without a Sync in between. Direct, both run in one implicit transaction,
     * but the read changed nothing, so the write can start afresh on the primary once the replica is closed off.
     */
    private boolean startsAfterFlush(byte type) {
        return lease.afterFlush() && (type == 'Q' || type == 'P') && !tracker.isDiscarding();
    }

    /** Ends the replica's open extended-protocol segment with a Sync of pgbalancer's own; its answer stays hidden. */
    private void endWithHiddenSync(int at) {
        endRun(at);
        ByteBuf sync = alloc(5);
        sync.writeByte('S').writeInt(4);
        out.add(sync);
        tracker.add(Expect.INTERNAL);
    }

    /** Sends what came before {@code at} and keeps the rest of the chunk for later. */
    private boolean hold(ByteBuf buf, int at) {
        endRun(at);
        flush();
        held = buf.retainedSlice(at, buf.writerIndex() - at);
        outcome = Outcome.HELD;
        return false;
    }

    @Override
    protected void flush() {
        out.writeTo(lease.backend().channel());
    }

    private void onMessage(byte type, ByteBuf buf, int at, int length) {
        int end = at + length;
        switch (type) {
            case 'Q' -> {
                Classification c = classify(buf, at + 5, end);
                note(c);
                tracker.add(Expect.QUERY, effects(c));
                s.commits.statement(c);
                s.commits.statementText(buf, at + 5, end);
                sendBehind(end, s.commits.afterCycle());
                restoreBehind(end);
            }
            case 'P' -> {
                int afterName = MessageNames.parseStatementEnd(buf, at, end);
                if (MessageNames.isUnnamed(at + 5, afterName)) {
                    unnamedStatement = classify(buf, afterName, end); // re-parsed freely, runs as is
                    note(unnamedStatement);
                    tracker.add(Expect.PARSE);
                    s.commits.statement(unnamedStatement);
                } else {
                    statements.parse(buf, at, length, afterName);
                    s.commits.statement(classify(buf, afterName, end));
                }
                s.commits.statementText(buf, afterName, end);
            }
            case 'B' -> {
                int afterPortal = MessageNames.bindPortalEnd(buf, at, end);
                int afterName = MessageNames.bindStatementEnd(buf, afterPortal, end);
                Classification bound = MessageNames.isUnnamed(afterPortal, afterName) ? unnamedStatement
                        : statements.bind(buf, at, length, afterPortal, afterName);
                portals.bind(buf, at + 5, afterPortal, effects(bound));
                tracker.add(Expect.BIND);
                s.commits.statement(bound);
                if (!MessageNames.isUnnamed(afterPortal, afterName)) {
                    s.commits.namedStatement(MessageNames.read(buf, afterPortal, afterName));
                }
            }
            case 'D' -> {
                byte kind = MessageNames.targetKind(buf, at, end);
                int afterName = MessageNames.targetEnd(buf, at, end);
                if (kind == 'S' && !MessageNames.isUnnamed(at + 6, afterName)) {
                    statements.describe(buf, at, length, afterName);
                }
                tracker.add(Expect.DESCRIBE);
            }
            case 'C' -> {
                byte kind = MessageNames.targetKind(buf, at, end);
                int afterName = MessageNames.targetEnd(buf, at, end);
                if (kind == 'S' && !MessageNames.isUnnamed(at + 6, afterName)) {
                    statements.close(buf, at, length, afterName);
                } else {
                    if (kind == 'P') {
                        portals.close(buf, at + 6, afterName);
                    }
                    tracker.add(Expect.CLOSE);
                }
            }
            case 'E' -> tracker.add(Expect.EXECUTE, portals.effectsOf(buf, at, end));
            case 'S' -> {
                tracker.add(Expect.SYNC);
                sendBehind(end, s.commits.afterCycle());
                restoreBehind(end);
            }
            case 'F' -> {
                tracker.add(Expect.QUERY);
                s.commits.statement(null);
                restoreBehind(end);
            }
            case 'H' -> {
                if (!lease.isRefused()) {
                    lease.replay().endForFlush(); // a client waiting on Flush gets every answer the server has given
                }
            }
            case 'd', 'c', 'f' -> {
                // COPY data gets no answer of its own
            }
            default -> throw new io.pgbalancer.protocol.ProtocolException("unexpected message type '" + (char) type
                    + "' (0x" + Integer.toHexString(type & 0xFF) + ") from client");
        }
    }

    /**
     * A settings restore (see BackendRelay.onReadyForQuery) that must wait for the end of the segment the client has
     * already begun: a simple Query inside it would run inside the client's pipeline, and after an error there the
     * server would skip it like everything else until Sync.
     */
    void restoreAtSegmentEnd(String sql) {
        pendingRestore = sql;
    }

    private void restoreBehind(int end) {
        if (pendingRestore != null) {
            ByteBuf q = alloc(pendingRestore.length() + 8);
            io.pgbalancer.protocol.ClientMessages.query(q, pendingRestore);
            pendingRestore = null;
            tracker.add(Expect.RESTORE);
            sendBehind(end, q);
        }
    }

    /** Sends {@code hidden} (if any) right behind the client's message that ends at {@code end}. */
    private void sendBehind(int end, ByteBuf hidden) {
        if (hidden != null) {
            endRun(end);
            out.add(hidden);
        }
    }

    Classification classify(ByteBuf buf, int from, int end) {
        return s.memo.classify(buf, from, end);
    }

    /** The classification to attach to an Execute or Query, when it may change settings (see SettingsLedger). */
    private static Classification effects(Classification c) {
        return c == null || c.sets().isEmpty() ? null : c;
    }

    void note(Classification c) {
        if (c.pins() && !s.pinned) {
            s.pinned = true;
        }
    }

    ByteBuf alloc(int capacity) {
        return s.client.alloc().buffer(capacity);
    }
}

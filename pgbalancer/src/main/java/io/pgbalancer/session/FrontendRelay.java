// Client → backend: forwards message runs untouched, rewrites statement names, records the answers owed.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.pool.ServerStatements;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.routing.Target;
import io.pgbalancer.sql.Classification;
import java.util.List;

final class FrontendRelay extends FrameRelay {
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
    private Outcome outcome;
    private ByteBuf held;
    /**
     * The last message was a Sync, Query or FunctionCall (Flushes after it do not count): the next one starts a new
     * segment, which the server processes in its normal state.
     */
    private boolean segmentStart = true;

    FrontendRelay(ClientSession session) {
        this.s = session;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
        // the client's statement names follow its read replays, and die with its connection
        lease.replay().listener(s.statements);
        s.client.closeFuture().addListener(f -> s.statements.release());
    }

    /** Relays a chunk of complete client messages to the leased backend; takes ownership of {@code chunk}. */
    Outcome relay(ByteBuf chunk) {
        outcome = Outcome.SENT;
        walk(chunk);
        return outcome;
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
                && (lease.atCycleBoundary() || startsAfterFlush(type)) && s.checkout.route(buf, at) != Target.REPLICA) {
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
            housekeeping(at);
        }
        segmentStart = type == 'S' || type == 'Q' || type == 'F' || (segmentStart && type == 'H');
        lease.sending(type);
        if (type == 'S' || !tracker.isDiscarding()) {
            onMessage(type, buf, at, length);
        } // else: the server skips everything until Sync after an error; forward untouched, owe nothing
        return true;
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
            }
            case 'P' -> onParse(buf, at, length);
            case 'B' -> {
                int afterPortal = MessageNames.bindPortalEnd(buf, at, end);
                int afterName = MessageNames.bindStatementEnd(buf, afterPortal, end);
                Classification bound = unnamedStatement;
                if (!MessageNames.isUnnamed(afterPortal, afterName)) {
                    PreparedStatements.Statement st = s.statements.get(MessageNames.read(buf, afterPortal, afterName));
                    bound = st == null ? null : st.classification();
                    if (st != null) {
                        cut(at, length);
                        ensurePrepared(st);
                        ByteBuf b = alloc(length + 16);
                        int len = Wire.begin(b, 'B');
                        b.writeBytes(buf, at + 5, afterPortal - at - 5);
                        Wire.writeCString(b, st.backendName());
                        b.writeBytes(buf, afterName, end - afterName);
                        Wire.end(b, len);
                        out.add(b);
                    }
                }
                portals.bind(buf, at + 5, afterPortal, effects(bound));
                tracker.add(Expect.BIND);
            }
            case 'D' -> {
                byte kind = MessageNames.targetKind(buf, at);
                int afterName = MessageNames.targetEnd(buf, at, end);
                if (kind == 'S' && !MessageNames.isUnnamed(at + 6, afterName)) {
                    PreparedStatements.Statement st = s.statements.get(MessageNames.read(buf, at + 6, afterName));
                    if (st != null) {
                        cut(at, length);
                        ensurePrepared(st);
                        ByteBuf b = alloc(16 + st.backendName().length());
                        int len = Wire.begin(b, 'D');
                        b.writeByte('S');
                        Wire.writeCString(b, st.backendName());
                        Wire.end(b, len);
                        out.add(b);
                    }
                }
                tracker.add(Expect.DESCRIBE);
            }
            case 'C' -> {
                byte kind = MessageNames.targetKind(buf, at);
                int afterName = MessageNames.targetEnd(buf, at, end);
                if (kind == 'S' && !MessageNames.isUnnamed(at + 6, afterName)) {
                    // The backend keeps the shared statement for other clients; the client's name just goes away
                    // (if the server runs the Close: after an earlier error it would skip it). Closing a name that
                    // does not exist is no error, as direct.
                    cut(at, length);
                    addFake(Expect.FAKE_CLOSE_COMPLETE,
                            s.statements.close(MessageNames.read(buf, at + 6, afterName), lease.replay().isOpen()));
                } else {
                    if (kind == 'P') {
                        portals.close(buf, at + 6, afterName);
                    }
                    tracker.add(Expect.CLOSE);
                }
            }
            case 'E' -> tracker.add(Expect.EXECUTE, portals.effectsOf(buf, at, end));
            case 'S' -> tracker.add(Expect.SYNC);
            case 'F' -> tracker.add(Expect.QUERY);
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

    private void onParse(ByteBuf buf, int at, int length) {
        int end = at + length;
        int afterName = MessageNames.parseStatementEnd(buf, at, end);
        if (afterName - at - 5 <= 1) {
            unnamedStatement = classify(buf, afterName, end); // the unnamed statement: re-parsed freely, runs as is
            note(unnamedStatement);
            tracker.add(Expect.PARSE);
            return;
        }
        String clientName = MessageNames.read(buf, at + 5, afterName);
        if (s.statements.contains(clientName)) {
            rejectDuplicate(clientName, at);
            return;
        }
        Classification c = classify(buf, afterName, end);
        note(c);
        cut(at, length);
        byte[] body = new byte[end - afterName];
        buf.getBytes(afterName, body);
        PreparedStatements.Op op = s.statements.define(clientName, body, c, lease.replay().isOpen());
        String backendName = op.statement().backendName();
        ServerStatements server = lease.backend().statements();
        if (server.use(backendName)) {
            addFake(Expect.FAKE_PARSE_COMPLETE, op);
            return;
        }
        ByteBuf p = alloc(length + 16);
        ClientMessages.parse(p, backendName, buf, afterName, end);
        out.add(p);
        server.add(backendName);
        tracker.add(Expect.PARSE, new Created(server, backendName, op));
    }

    /**
     * A Parse of a name the client has not closed. PostgreSQL answers {@code ERROR 42P05 prepared statement "s1"
     * already exists}, but only after parsing and analysing the text (a syntax error, an unknown table or an aborted
     * transaction comes first), and the error aborts the transaction it happens in (an implicit one rolls back what
     * ran before it in the pipeline) and makes the server skip everything until Sync. An error made up by pgbalancer
     * could copy the message but not the rest; so the server itself is made to fail, on the client's own Parse
     * forwarded untouched, right after a hidden Parse that creates the client's name with an empty query (which
     * cannot fail: an empty query is not even checked against an aborted transaction). The server then answers
     * exactly as direct, the usual error bookkeeping skips to Sync, and the Sync's ReadyForQuery comes from the
     * server. If an earlier message of the pipeline fails instead, the server skips both Parses, as it would have
     * skipped the client's. The client's name never stays on the server: it is closed before the next cycle.
     */
    private void rejectDuplicate(String clientName, int at) {
        endRun(at); // the hidden Parse goes first; the client's Parse stays in the untouched run after it
        ByteBuf p = alloc(16 + clientName.length() * 3);
        int len = Wire.begin(p, 'P');
        Wire.writeCString(p, clientName);
        p.writeByte(0); // empty query text
        p.writeShort(0); // no parameter types
        Wire.end(p, len);
        out.add(p);
        tracker.add(Expect.PARSE_HIDDEN);
        tracker.add(Expect.PARSE); // its ErrorResponse goes to the client
        lease.backend().statements().closeLater(clientName);
    }

    /**
     * At the start of a segment the server is in its normal state (not skipping after an error, not in COPY), so
     * Closes sent now run for sure: the names a duplicate Parse left on this server, and the least recently used
     * statements beyond pool.max_prepared_statements. They go as Close... Sync with the answers hidden, like a
     * settings sync. Statements used by the transaction still running are not closed (see ServerStatements).
     */
    private void housekeeping(int at) {
        ServerStatements server = lease.backend().statements();
        boolean atRest = tracker.isEmpty() ? lease.state() == BackendLease.State.IDLE
                : tracker.size() == 1 && tracker.headKind() == Expect.INTERNAL; // only a settings sync queued
        if (atRest && lease.txStatus() == 'I') {
            server.newTransaction(); // no transaction is open: no portal of an earlier statement is left
        }
        if (tracker.isDiscarding() || !server.needsHousekeeping()) {
            return;
        }
        List<String> names = server.takeHousekeeping();
        endRun(at);
        ByteBuf b = alloc(16 + names.size() * 24);
        for (String name : names) {
            int len = Wire.begin(b, 'C');
            b.writeByte('S');
            Wire.writeCString(b, name);
            Wire.end(b, len);
        }
        b.writeByte('S');
        b.writeInt(4);
        out.add(b);
        tracker.add(Expect.INTERNAL);
    }

    /** Re-creates a client's statement on this backend before its first use here; the answer stays hidden. */
    private void ensurePrepared(PreparedStatements.Statement st) {
        ServerStatements server = lease.backend().statements();
        if (server.add(st.backendName())) {
            ByteBuf body = io.netty.buffer.Unpooled.wrappedBuffer(st.body().bytes());
            ByteBuf p = alloc(body.readableBytes() + 32);
            ClientMessages.parse(p, st.backendName(), body, 0, body.readableBytes());
            out.add(p);
            tracker.add(Expect.PARSE_HIDDEN, new Created(server, st.backendName(), null));
        }
    }

    /**
     * A Parse creating {@code name} on {@code server}, on behalf of a client's {@code op} (or hidden, op null): if the
     * server skips or rejects it, the statement does not exist there, and the client's definition never happened.
     */
    private record Created(ServerStatements server, String name, PreparedStatements.Op op)
            implements ResponseTracker.Tag {
        @Override
        public void answered() {
            if (op != null) {
                op.answered();
            }
        }

        @Override
        public void skipped() {
            server.remove(name);
            if (op != null) {
                op.skipped();
            }
        }

        @Override
        public boolean changesClientView() {
            return op != null;
        }
    }

    /**
     * An answer the proxy gives itself, in order: at once if nothing else is owed, else when its turn comes.
     * {@code change} (may be null) is what the message changed in the client's names; it is settled with the answer.
     */
    private void addFake(int kind, ResponseTracker.Tag change) {
        if (tracker.isDiscarding()) {
            if (change != null) {
                change.skipped(); // the server would have skipped this message after the pending error
            }
            return;
        }
        if (tracker.isEmpty()) {
            s.client.writeAndFlush(kind == Expect.FAKE_PARSE_COMPLETE ? ServerMessages.parseComplete(s.client.alloc())
                    : ServerMessages.closeComplete(s.client.alloc()));
            if (change != null) {
                change.answered();
            }
        } else {
            tracker.add(kind, change);
        }
    }

    private Classification classify(ByteBuf buf, int from, int end) {
        return s.memo.classify(buf, from, end);
    }

    /** The classification to attach to an Execute or Query, when it may change settings (see SettingsLedger). */
    private static Classification effects(Classification c) {
        return c == null || c.sets().isEmpty() ? null : c;
    }

    private void note(Classification c) {
        if (c.pins() && !s.pinned) {
            s.pinned = true;
        }
    }

    private ByteBuf alloc(int capacity) {
        return s.client.alloc().buffer(capacity);
    }
}

// Client → backend: forwards message runs untouched, rewrites statement names, records the answers owed.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.pool.ServerStatements;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.routing.Target;
import io.pgbalancer.sql.Classification;
import java.nio.charset.StandardCharsets;
import java.util.List;

final class FrontendRelay extends FrameRelay {
    private final ClientSession s;
    /**
     * The last message was a Sync, Query or FunctionCall (Flushes after it do not count): the next one starts a new
     * segment, which the server processes in its normal state.
     */
    private boolean segmentStart = true;

    FrontendRelay(ClientSession session) {
        this.s = session;
        // the client's statement names follow its read replays, and die with its connection
        s.replay.listener(s.statements);
        s.client.closeFuture().addListener(f -> s.statements.release());
    }

    @Override
    protected boolean onFrame(byte type, ByteBuf buf, int at, int length) {
        if (type == 'X') {
            // what came before Terminate still runs, as it would direct (a pipelined COMMIT commits)
            endRun(at);
            flush();
            s.onClientTerminate();
            return false;
        }
        if (s.cycleBoundary && s.txStatus == 'I' && s.onReplica() && s.routeOf(buf, at) != Target.REPLICA) {
            // A new cycle that must not run on this replica waits until the replica is done with the last one:
            // one transaction is never split, and no write reaches a replica.
            endRun(at);
            flush();
            s.hold(buf.retainedSlice(at, buf.writerIndex() - at));
            return false;
        }
        if (segmentStart && type != 'H' && type != 'd' && type != 'c' && type != 'f') {
            if (s.tracker.clientViewChanges() > 0) {
                // An earlier cycle defines or closes statement names and its answers are not in: whether a name
                // exists for this cycle depends on them (a failed Parse leaves no statement, a skipped Close leaves
                // it). Direct, the server would know; so this cycle waits for them, as a write waits for a replica.
                // Never before COPY data or Flush: the server may be inside COPY, waiting for the client.
                endRun(at);
                flush();
                s.hold(buf.retainedSlice(at, buf.writerIndex() - at));
                return false;
            }
            housekeeping(at);
        }
        segmentStart = type == 'S' || type == 'Q' || type == 'F' || (segmentStart && type == 'H');
        s.cycleBoundary = type == 'S' || type == 'Q' || type == 'F';
        s.idleAtReadyForQuery = false;
        if (type == 'S' || !s.tracker.isDiscarding()) {
            onMessage(type, buf, at, length);
        } // else: the server skips everything until Sync after an error; forward untouched, owe nothing
        return true;
    }

    @Override
    protected void flush() {
        out.writeTo(s.backend.channel());
    }

    private void onMessage(byte type, ByteBuf buf, int at, int length) {
        int end = at + length;
        switch (type) {
            case 'Q' -> {
                note(classify(buf, at + 5, end));
                s.tracker.add(Expect.QUERY);
            }
            case 'P' -> onParse(buf, at, length);
            case 'B' -> {
                int afterPortal = Wire.endOfCString(buf, at + 5, end, "Bind portal");
                int afterName = Wire.endOfCString(buf, afterPortal, end, "Bind statement");
                if (afterName - afterPortal > 1) {
                    PreparedStatements.Statement st = s.statements.get(string(buf, afterPortal, afterName));
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
                s.tracker.add(Expect.BIND);
            }
            case 'D' -> {
                byte kind = buf.getByte(at + 5);
                int afterName = Wire.endOfCString(buf, at + 6, end, "Describe name");
                if (kind == 'S' && afterName - at - 6 > 1) {
                    PreparedStatements.Statement st = s.statements.get(string(buf, at + 6, afterName));
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
                s.tracker.add(Expect.DESCRIBE);
            }
            case 'C' -> {
                byte kind = buf.getByte(at + 5);
                int afterName = Wire.endOfCString(buf, at + 6, end, "Close name");
                if (kind == 'S' && afterName - at - 6 > 1) {
                    // The backend keeps the shared statement for other clients; the client's name just goes away
                    // (if the server runs the Close: after an earlier error it would skip it). Closing a name that
                    // does not exist is no error, as direct.
                    cut(at, length);
                    addFake(Expect.FAKE_CLOSE_COMPLETE,
                            s.statements.close(string(buf, at + 6, afterName), s.replay.isOpen()));
                } else {
                    s.tracker.add(Expect.CLOSE);
                }
            }
            case 'E' -> s.tracker.add(Expect.EXECUTE);
            case 'S' -> s.tracker.add(Expect.SYNC);
            case 'F' -> s.tracker.add(Expect.QUERY);
            case 'H', 'd', 'c', 'f' -> {
                // Flush and COPY data get no answer of their own
            }
            default -> throw new io.pgbalancer.protocol.ProtocolException("unexpected message type '" + (char) type
                    + "' (0x" + Integer.toHexString(type & 0xFF) + ") from client");
        }
    }

    private void onParse(ByteBuf buf, int at, int length) {
        int end = at + length;
        int afterName = Wire.endOfCString(buf, at + 5, end, "Parse statement name");
        if (afterName - at - 5 <= 1) {
            note(classify(buf, afterName, end)); // the unnamed statement: re-parsed freely, runs as is
            s.tracker.add(Expect.PARSE);
            return;
        }
        String clientName = string(buf, at + 5, afterName);
        if (s.statements.contains(clientName)) {
            rejectDuplicate(clientName, at);
            return;
        }
        Classification c = classify(buf, afterName, end);
        note(c);
        cut(at, length);
        byte[] body = new byte[end - afterName];
        buf.getBytes(afterName, body);
        PreparedStatements.Op op = s.statements.define(clientName, body, c, s.replay.isOpen());
        String backendName = op.statement().backendName();
        ServerStatements server = s.backend.prepared;
        if (server.use(backendName)) {
            addFake(Expect.FAKE_PARSE_COMPLETE, op);
            return;
        }
        ByteBuf p = alloc(length + 16);
        ClientMessages.parse(p, backendName, buf, afterName, end);
        out.add(p);
        server.add(backendName);
        s.tracker.add(Expect.PARSE, new Created(server, backendName, op));
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
        s.tracker.add(Expect.PARSE_HIDDEN);
        s.tracker.add(Expect.PARSE); // its ErrorResponse goes to the client
        s.backend.prepared.closeLater(clientName);
    }

    /**
     * At the start of a segment the server is in its normal state (not skipping after an error, not in COPY), so
     * Closes sent now run for sure: the names a duplicate Parse left on this server, and the least recently used
     * statements beyond pool.max_prepared_statements. They go as Close... Sync with the answers hidden, like a
     * settings sync. Statements used by the transaction still running are not closed (see ServerStatements).
     */
    private void housekeeping(int at) {
        ServerStatements server = s.backend.prepared;
        boolean atRest = s.tracker.isEmpty() ? s.idleAtReadyForQuery
                : s.tracker.size() == 1 && s.tracker.headKind() == Expect.INTERNAL; // only a settings sync queued
        if (atRest && s.txStatus == 'I') {
            server.newTransaction(); // no transaction is open: no portal of an earlier statement is left
        }
        if (s.tracker.isDiscarding() || !server.needsHousekeeping()) {
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
        s.tracker.add(Expect.INTERNAL);
    }

    /** Re-creates a client's statement on this backend before its first use here; the answer stays hidden. */
    private void ensurePrepared(PreparedStatements.Statement st) {
        ServerStatements server = s.backend.prepared;
        if (server.add(st.backendName())) {
            ByteBuf body = io.netty.buffer.Unpooled.wrappedBuffer(st.body().bytes());
            ByteBuf p = alloc(body.readableBytes() + 32);
            ClientMessages.parse(p, st.backendName(), body, 0, body.readableBytes());
            out.add(p);
            s.tracker.add(Expect.PARSE_HIDDEN, new Created(server, st.backendName(), null));
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
        if (s.tracker.isDiscarding()) {
            if (change != null) {
                change.skipped(); // the server would have skipped this message after the pending error
            }
            return;
        }
        if (s.tracker.isEmpty()) {
            s.client.writeAndFlush(kind == Expect.FAKE_PARSE_COMPLETE ? ServerMessages.parseComplete(s.client.alloc())
                    : ServerMessages.closeComplete(s.client.alloc()));
            if (change != null) {
                change.answered();
            }
        } else {
            s.tracker.add(kind, change);
        }
    }

    private Classification classify(ByteBuf buf, int from, int end) {
        return s.memo.classify(buf, from, end);
    }

    private void note(Classification c) {
        if (!c.sets().isEmpty()) {
            s.addPendingSets(c.sets());
        }
        if (c.pins() && !s.pinned) {
            s.pinned = true;
        }
    }

    private ByteBuf alloc(int capacity) {
        return s.client.alloc().buffer(capacity);
    }

    private static String string(ByteBuf buf, int from, int afterNul) {
        return buf.toString(from, afterNul - 1 - from, StandardCharsets.UTF_8);
    }
}

// Client → backend: forwards message runs untouched, rewrites statement names, records the answers owed.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.routing.Target;
import io.pgbalancer.sql.Classification;
import java.nio.charset.StandardCharsets;

final class FrontendRelay extends FrameRelay {
    /** What became of a chunk of client input. */
    enum Outcome {
        /** Everything went to the backend. */
        SENT,
        /** A later cycle must not run on this backend: the rest waits in {@link #takeHeld()}. */
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

    FrontendRelay(ClientSession session) {
        this.s = session;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
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
        if (lease.atCycleBoundary() && lease.txStatus() == 'I' && lease.onReplica()
                && s.checkout.route(buf, at) != Target.REPLICA) {
            // A new cycle that must not run on this replica waits until the replica is done with the last one:
            // one transaction is never split, and no write reaches a replica.
            endRun(at);
            flush();
            held = buf.retainedSlice(at, buf.writerIndex() - at);
            outcome = Outcome.HELD;
            return false;
        }
        lease.sending(type);
        if (type == 'S' || !tracker.isDiscarding()) {
            onMessage(type, buf, at, length);
        } // else: the server skips everything until Sync after an error; forward untouched, owe nothing
        return true;
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
                int afterPortal = Wire.endOfCString(buf, at + 5, end, "Bind portal");
                int afterName = Wire.endOfCString(buf, afterPortal, end, "Bind statement");
                Classification bound = unnamedStatement;
                if (afterName - afterPortal > 1) {
                    PreparedStatements.Statement st = s.statements.get(string(buf, afterPortal, afterName));
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
                tracker.add(Expect.DESCRIBE);
            }
            case 'C' -> {
                byte kind = buf.getByte(at + 5);
                int afterName = Wire.endOfCString(buf, at + 6, end, "Close name");
                if (kind == 'S' && afterName - at - 6 > 1) {
                    // The backend keeps the shared statement for other clients; the client's name just goes away.
                    cut(at, length);
                    s.statements.remove(string(buf, at + 6, afterName));
                    addFake(Expect.FAKE_CLOSE_COMPLETE);
                } else {
                    if (kind == 'P') {
                        portals.close(buf, at + 6, afterName);
                    }
                    tracker.add(Expect.CLOSE);
                }
            }
            case 'E' -> tracker.add(Expect.EXECUTE, portals.effectsOf(buf, at + 5, end));
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
        int afterName = Wire.endOfCString(buf, at + 5, end, "Parse statement name");
        Classification c = classify(buf, afterName, end);
        note(c);
        if (afterName - at - 5 <= 1) {
            unnamedStatement = c;
            tracker.add(Expect.PARSE);
            return;
        }
        cut(at, length);
        byte[] body = new byte[end - afterName];
        buf.getBytes(afterName, body);
        PreparedStatements.Statement st = s.statements.define(string(buf, at + 5, afterName), body, c);
        if (lease.backend().prepared.contains(st.backendName())) {
            addFake(Expect.FAKE_PARSE_COMPLETE);
            return;
        }
        ByteBuf p = alloc(length + 16);
        ClientMessages.parse(p, st.backendName(), buf, afterName, end);
        out.add(p);
        lease.backend().prepared.add(st.backendName());
        tracker.add(Expect.PARSE, st.backendName());
    }

    /** Re-creates a client's statement on this backend before its first use here; the answer stays hidden. */
    private void ensurePrepared(PreparedStatements.Statement st) {
        if (lease.backend().prepared.add(st.backendName())) {
            ByteBuf body = io.netty.buffer.Unpooled.wrappedBuffer(st.body().bytes());
            ByteBuf p = alloc(body.readableBytes() + 32);
            ClientMessages.parse(p, st.backendName(), body, 0, body.readableBytes());
            out.add(p);
            tracker.add(Expect.PARSE_HIDDEN, st.backendName());
        }
    }

    /** An answer the proxy gives itself, in order: at once if nothing else is owed, else when its turn comes. */
    private void addFake(int kind) {
        if (tracker.isDiscarding()) {
            return; // the server would have skipped this message after the pending error
        }
        if (tracker.isEmpty()) {
            s.client.writeAndFlush(kind == Expect.FAKE_PARSE_COMPLETE ? ServerMessages.parseComplete(s.client.alloc())
                    : ServerMessages.closeComplete(s.client.alloc()));
        } else {
            tracker.add(kind);
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

    private static String string(ByteBuf buf, int from, int afterNul) {
        return buf.toString(from, afterNul - 1 - from, StandardCharsets.UTF_8);
    }
}

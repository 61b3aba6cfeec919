// Puts a client's named statements on the leased backend under pgbalancer's names, creating and trimming them there.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.pool.ServerStatements;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.sql.Classification;
import java.util.List;

/**
 * Named statements belong to a server connection, but in transaction pooling a client may run on any of them. Every
 * Parse, Bind, Describe and Close of a named statement passes here: the client's name is mapped to a proxy-owned name
 * shared per text (PreparedStatements), a backend that lacks it gets a hidden Parse first, a duplicate name fails the
 * server's own way, and each backend keeps at most pool.max_prepared_statements (ServerStatements). Output goes into
 * the frontend relay's batch, in order with the messages around it.
 */
final class StatementRewriter {
    private final ClientSession s;
    private final FrontendRelay relay;
    private final BackendLease lease;
    private final ResponseTracker tracker;

    StatementRewriter(ClientSession session, FrontendRelay relay) {
        this.s = session;
        this.relay = relay;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
    }

    /**
     * Bind to a named statement whose name is {@code [afterPortal, afterName)}: rewritten to the backend's name.
     * Returns the statement's classification, or null when the client has no such statement (the server says so).
     */
    Classification bind(ByteBuf buf, int at, int length, int afterPortal, int afterName) {
        PreparedStatements.Statement st = s.statements.get(MessageNames.read(buf, afterPortal, afterName));
        if (st == null) {
            return null;
        }
        int end = at + length;
        relay.cut(at, length);
        ensurePrepared(st);
        ByteBuf b = relay.alloc(length + 16);
        int len = Wire.begin(b, 'B');
        b.writeBytes(buf, at + 5, afterPortal - at - 5);
        Wire.writeCString(b, st.backendName());
        b.writeBytes(buf, afterName, end - afterName);
        Wire.end(b, len);
        relay.out.add(b);
        return st.classification();
    }

    /** Describe of a named statement whose name ends at {@code afterName}. */
    void describe(ByteBuf buf, int at, int length, int afterName) {
        PreparedStatements.Statement st = s.statements.get(MessageNames.read(buf, at + 6, afterName));
        if (st == null) {
            return; // the server answers 26000, as direct
        }
        relay.cut(at, length);
        ensurePrepared(st);
        ByteBuf b = relay.alloc(16 + st.backendName().length());
        int len = Wire.begin(b, 'D');
        b.writeByte('S');
        Wire.writeCString(b, st.backendName());
        Wire.end(b, len);
        relay.out.add(b);
    }

    /**
     * Close of a named statement. The backend keeps the shared statement for other clients; the client's name just
     * goes away (if the server runs the Close: after an earlier error it would skip it). Closing a name that does not
     * exist is no error, as direct.
     */
    void close(ByteBuf buf, int at, int length, int afterName) {
        relay.cut(at, length);
        addFake(Expect.FAKE_CLOSE_COMPLETE,
                s.statements.close(MessageNames.read(buf, at + 6, afterName), lease.replay().isOpen()));
    }

    /** Parse of a named statement whose name ends at {@code afterName}. */
    void parse(ByteBuf buf, int at, int length, int afterName) {
        int end = at + length;
        String clientName = MessageNames.read(buf, at + 5, afterName);
        if (s.statements.contains(clientName)) {
            rejectDuplicate(clientName, at);
            return;
        }
        Classification c = relay.classify(buf, afterName, end);
        relay.note(c);
        relay.cut(at, length);
        byte[] body = new byte[end - afterName];
        buf.getBytes(afterName, body);
        PreparedStatements.Op op = s.statements.define(clientName, body, c, lease.replay().isOpen());
        String backendName = op.statement().backendName();
        ServerStatements server = lease.backend().statements();
        if (server.use(backendName)) {
            addFake(Expect.FAKE_PARSE_COMPLETE, op);
            return;
        }
        ByteBuf p = relay.alloc(length + 16);
        ClientMessages.parse(p, backendName, buf, afterName, end);
        relay.out.add(p);
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
        relay.endRun(at); // the hidden Parse goes first; the client's Parse stays in the untouched run after it
        ByteBuf p = relay.alloc(16 + clientName.length() * 3);
        int len = Wire.begin(p, 'P');
        Wire.writeCString(p, clientName);
        p.writeByte(0); // empty query text
        p.writeShort(0); // no parameter types
        Wire.end(p, len);
        relay.out.add(p);
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
    void housekeeping(int at) {
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
        relay.endRun(at);
        ByteBuf b = relay.alloc(16 + names.size() * 24);
        for (String name : names) {
            int len = Wire.begin(b, 'C');
            b.writeByte('S');
            Wire.writeCString(b, name);
            Wire.end(b, len);
        }
        b.writeByte('S');
        b.writeInt(4);
        relay.out.add(b);
        tracker.add(Expect.INTERNAL);
    }

    /** Re-creates a client's statement on this backend before its first use here; the answer stays hidden. */
    private void ensurePrepared(PreparedStatements.Statement st) {
        ServerStatements server = lease.backend().statements();
        if (server.add(st.backendName())) {
            ByteBuf body = io.netty.buffer.Unpooled.wrappedBuffer(st.body().bytes());
            ByteBuf p = relay.alloc(body.readableBytes() + 32);
            ClientMessages.parse(p, st.backendName(), body, 0, body.readableBytes());
            relay.out.add(p);
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
}

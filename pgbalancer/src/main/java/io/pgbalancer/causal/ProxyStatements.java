// Answers a session's SET/SHOW/RESET of pgbalancer.* itself, in the simple and extended protocols, byte for byte as PostgreSQL.
package io.pgbalancer.causal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ByteProcessor;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The session asks {@link #claims} about the first message of each chunk it would route; while that holds it hands the
 * chunk to {@link #answer}, which answers and consumes the claimed messages and leaves the rest for the server.
 *
 * <p>Claimed: a Query or Parse whose text is a virtual statement ({@link ProxyStatement}); a Bind, Describe, Execute or
 * Close of a statement or portal this class made; and, once such an extended cycle has begun, its Flush and Sync. After
 * an ErrorResponse in an extended cycle everything up to the Sync is claimed and dropped, as the server does. A message
 * that is none of these inside a cycle hands the rest of the cycle (up to and with its Sync) to the server, which answers
 * it after the answers written here. Named virtual statements stay until the client Closes them (pgjdbc's S_n after its
 * prepare threshold, asyncpg's Parse + Describe + Flush then Bind + Execute + Sync); portals end at Sync, as in an
 * implicit transaction.
 *
 * <p>Limitations. The session asks only between transactions, with no server attached: inside a transaction, in a
 * pinned session and in session pooling (where the server stays attached) the statements go to the server, which takes
 * SET pgbalancer.x as a placeholder setting and does not know SHOW pgbalancer.commit_lsn. For the same reason a virtual statement name used while a server is attached is
 * unknown there (26000), and a Close of a virtual name that is not the first message of a chunk goes to the server
 * (harmless: closing an unknown name succeeds) while this class keeps the name until the client Parses it again. Only
 * the first message of a chunk can redefine a name: a Parse of an ordinary text under a virtual name, or any Query for
 * the unnamed statement, makes this class forget it.
 *
 * <p>Not thread-safe: a session uses its own instance on its event loop.
 */
public final class ProxyStatements {
    private static final byte[] PGBALANCER = "pgbalancer".getBytes(StandardCharsets.US_ASCII);
    private static final int UNKNOWN_OID = 705;
    private static final ByteProcessor NOT_P = b -> (b | 0x20) != 'p';

    /** A Parse this class answered. */
    private record Prepared(ProxyStatement statement, int[] parameterTypes) {
    }

    /** A Bind this class answered: its statement, the requested format of the SHOW column, and how far it ran. */
    private static final class Portal {
        final ProxyStatement statement;
        final int format;
        String value;
        boolean rowSent;
        boolean done;

        Portal(ProxyStatement statement, int format) {
            this.statement = statement;
            this.format = format;
        }
    }

    private final ProxySettings settings;
    private final LongSupplier commitLsn;
    private final Map<String, Prepared> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private boolean inCycle;
    private boolean failed;

    /** @param commitLsn the session's latest commit position, read when SHOW pgbalancer.commit_lsn runs */
    public ProxyStatements(ProxySettings settings, LongSupplier commitLsn) {
        this.settings = settings;
        this.commitLsn = commitLsn;
    }

    /** Whether an extended cycle this class answers has begun and not reached its Sync. */
    public boolean inCycle() {
        return inCycle;
    }

    /**
     * Whether the message at {@code at} (complete, up to {@code buf}'s writer index) starts or continues a cycle
     * pgbalancer answers itself. A false answer inside a cycle hands the rest of it to the server; a false answer for
     * a Parse or Query that redefines a virtual name makes this class forget that name.
     */
    public boolean claims(ByteBuf buf, int at) {
        byte type = buf.getByte(at);
        int end = Frames.next(buf, at);
        if (inCycle && (failed || type == 'S' || type == 'H')) {
            return true;
        }
        if (isOurs(type, buf, at, end)) {
            return true;
        }
        if (inCycle) {
            inCycle = false; // the server answers the rest of this cycle
            portals.clear();
        } else {
            forgetRedefined(type, buf, at, end);
        }
        return false;
    }

    /**
     * Answers the messages from {@code buf}'s reader index while {@link #claims} holds, appending the answers to
     * {@code out} and moving the reader index past them. A Sync or Query is answered with ReadyForQuery({@code txStatus}).
     */
    public void answer(ByteBuf buf, ByteBufAllocator alloc, List<ByteBuf> out, char txStatus) {
        ByteBuf reply = alloc.buffer(128);
        try {
            int at = buf.readerIndex();
            while (at < buf.writerIndex() && claims(buf, at)) {
                int end = Frames.next(buf, at);
                answerOne(buf, at, end, reply, txStatus);
                at = end;
            }
            buf.readerIndex(at);
        } catch (RuntimeException e) {
            reply.release();
            throw e;
        }
        if (reply.isReadable()) {
            out.add(reply);
        } else {
            reply.release();
        }
    }

    private boolean isOurs(byte type, ByteBuf buf, int at, int end) {
        switch (type) {
            case 'Q':
                return mentionsPgbalancer(buf, at + 5, end) && ProxyStatement.parse(queryText(buf, at, end)) != null;
            case 'P': {
                int nameEnd = MessageNames.parseStatementEnd(buf, at, end);
                return mentionsPgbalancer(buf, nameEnd, end) && ProxyStatement.parse(parseText(buf, nameEnd, end)) != null;
            }
            case 'B':
                return !statements.isEmpty() && statements.containsKey(bindStatement(buf, at, end));
            case 'D':
            case 'C': {
                String name = MessageNames.read(buf, at + 6, MessageNames.targetEnd(buf, at, end));
                return MessageNames.targetKind(buf, at, end) == 'S' ? statements.containsKey(name)
                        : portals.containsKey(name);
            }
            case 'E':
                return !portals.isEmpty()
                        && portals.containsKey(MessageNames.read(buf, at + 5, MessageNames.executePortalEnd(buf, at, end)));
            default:
                return false;
        }
    }

    /** An ordinary Parse under a virtual name, or a Query (which drops the unnamed statement), outside a cycle. */
    private void forgetRedefined(byte type, ByteBuf buf, int at, int end) {
        if (statements.isEmpty()) {
            return;
        }
        if (type == 'Q') {
            statements.remove("");
        } else if (type == 'P') {
            statements.remove(MessageNames.read(buf, at + 5, MessageNames.parseStatementEnd(buf, at, end)));
        }
    }

    private void answerOne(ByteBuf buf, int at, int end, ByteBuf reply, char txStatus) {
        byte type = buf.getByte(at);
        if (type == 'S') {
            sync(reply, txStatus);
            return;
        }
        if (failed) {
            return; // discarded until Sync, as the server does after an error
        }
        if (type == 'Q') {
            query(buf, at, end, reply, txStatus);
            return;
        }
        inCycle = true;
        try {
            switch (type) {
                case 'P' -> parse(buf, at, end, reply);
                case 'B' -> bind(buf, at, end, reply);
                case 'D' -> describe(buf, at, end, reply);
                case 'E' -> execute(buf, at, end, reply);
                case 'C' -> close(buf, at, end, reply);
                default -> {
                } // Flush: everything is answered at once anyway
            }
        } catch (ProxyError e) {
            error(reply, e);
            failed = true;
        }
    }

    /** Simple Query: answered whole, then ReadyForQuery; it also ends any extended cycle, as the server's does. */
    private void query(ByteBuf buf, int at, int end, ByteBuf reply, char txStatus) {
        statements.remove("");
        portals.clear();
        inCycle = false;
        failed = false;
        ProxyStatement st = ProxyStatement.parse(queryText(buf, at, end));
        try {
            String value = st.run(settings, commitLsn);
            if (st.returnsRow()) {
                ServerMessages.textRowDescription(reply, st.name(), 0);
                ServerMessages.dataRow(reply, value);
            }
            ServerMessages.commandComplete(reply, st.tag());
        } catch (ProxyError e) {
            error(reply, e);
        }
        ServerMessages.readyForQuery(reply, txStatus);
    }

    private void parse(ByteBuf buf, int at, int end, ByteBuf reply) {
        int nameEnd = MessageNames.parseStatementEnd(buf, at, end);
        String name = MessageNames.read(buf, at + 5, nameEnd);
        if (name.isEmpty()) {
            statements.remove(""); // the server drops the unnamed statement even when the new one fails
        }
        int textEnd = Wire.endOfCString(buf, nameEnd, end, "Parse query");
        ProxyStatement st = ProxyStatement.parse(parseText(buf, nameEnd, end));
        int[] types = new int[readShort(buf, textEnd, end)];
        for (int k = 0; k < types.length; k++) {
            types[k] = readInt(buf, textEnd + 2 + 4 * k, end);
        }
        if (st.returnsRow()) {
            st.parameter(); // the server describes SHOW when it parses it: an unknown name fails here
        } else if (st.error() != null) {
            throw st.error();
        }
        for (int k = 0; k < types.length; k++) {
            if (types[k] == 0 || types[k] == UNKNOWN_OID) {
                throw new ProxyError("42P18", "could not determine data type of parameter $" + (k + 1));
            }
        }
        if (!name.isEmpty() && statements.containsKey(name)) {
            throw new ProxyError("42P05", "prepared statement \"" + name + "\" already exists");
        }
        statements.put(name, new Prepared(st, types));
        ServerMessages.empty(reply, '1');
    }

    private void bind(ByteBuf buf, int at, int end, ByteBuf reply) {
        int portalEnd = MessageNames.bindPortalEnd(buf, at, end);
        String portal = MessageNames.read(buf, at + 5, portalEnd);
        int statementEnd = MessageNames.bindStatementEnd(buf, portalEnd, end);
        String name = MessageNames.read(buf, portalEnd, statementEnd);
        Prepared p = statements.get(name);
        int i = statementEnd;
        i += 2 + 2 * readShort(buf, i, end); // parameter format codes
        int params = readShort(buf, i, end);
        i += 2;
        for (int k = 0; k < params; k++) {
            int len = readInt(buf, i, end);
            i += 4;
            if (len > end - i) { // checked before it is added: a length near 2^31 would overflow the position
                throw new ProxyError("08P01", "insufficient data left in message");
            }
            i += Math.max(len, 0);
        }
        int formats = readShort(buf, i, end);
        int columns = p.statement().returnsRow() ? 1 : 0;
        if (params != p.parameterTypes().length) {
            throw new ProxyError("08P01", "bind message supplies " + params + " parameters, but prepared statement \""
                    + name + "\" requires " + p.parameterTypes().length);
        }
        if (formats > 1 && formats != columns) {
            throw new ProxyError("08P01", "bind message has " + formats + " result formats but query has " + columns
                    + " columns");
        }
        int format = formats == 0 ? 0 : readShort(buf, i + 2, end);
        if (format != 0 && format != 1) {
            throw new ProxyError("22023", "unsupported format code: " + format);
        }
        if (!portal.isEmpty() && portals.containsKey(portal)) {
            throw new ProxyError("42P03", "cursor \"" + portal + "\" already exists");
        }
        portals.put(portal, new Portal(p.statement(), format));
        ServerMessages.empty(reply, '2');
    }

    private void describe(ByteBuf buf, int at, int end, ByteBuf reply) {
        String name = MessageNames.read(buf, at + 6, MessageNames.targetEnd(buf, at, end));
        ProxyStatement st;
        int format;
        if (MessageNames.targetKind(buf, at, end) == 'S') {
            Prepared p = statements.get(name);
            ServerMessages.parameterDescription(reply, p.parameterTypes());
            st = p.statement();
            format = 0;
        } else {
            Portal portal = portals.get(name);
            st = portal.statement;
            format = portal.format;
        }
        if (st.returnsRow()) {
            ServerMessages.textRowDescription(reply, st.name(), format);
        } else {
            ServerMessages.empty(reply, 'n');
        }
    }

    /** SHOW sends its one row, split as maxRows asks (PortalSuspended); SET and RESET run once per portal. */
    private void execute(ByteBuf buf, int at, int end, ByteBuf reply) {
        int portalEnd = MessageNames.executePortalEnd(buf, at, end);
        String name = MessageNames.read(buf, at + 5, portalEnd);
        int maxRows = readInt(buf, portalEnd, end);
        Portal portal = portals.get(name);
        ProxyStatement st = portal.statement;
        if (!st.returnsRow()) {
            if (portal.done) {
                throw new ProxyError("55000", "portal \"" + name + "\" cannot be run");
            }
            portal.done = true;
            st.run(settings, commitLsn);
            ServerMessages.commandComplete(reply, st.tag());
            return;
        }
        if (!portal.done) {
            portal.value = st.run(settings, commitLsn);
            portal.done = true;
        }
        int sent = 0;
        if (!portal.rowSent) {
            ServerMessages.dataRow(reply, portal.value);
            portal.rowSent = true;
            sent = 1;
        }
        if (maxRows > 0 && sent >= maxRows) {
            ServerMessages.empty(reply, 's');
        } else {
            ServerMessages.commandComplete(reply, st.tag());
        }
    }

    private void close(ByteBuf buf, int at, int end, ByteBuf reply) {
        String name = MessageNames.read(buf, at + 6, MessageNames.targetEnd(buf, at, end));
        if (MessageNames.targetKind(buf, at, end) == 'S') {
            statements.remove(name);
        } else {
            portals.remove(name);
        }
        ServerMessages.empty(reply, '3');
    }

    private void sync(ByteBuf reply, char txStatus) {
        portals.clear(); // the implicit transaction ends, and its portals with it
        inCycle = false;
        failed = false;
        ServerMessages.readyForQuery(reply, txStatus);
    }

    private static void error(ByteBuf reply, ProxyError e) {
        ServerMessages.error(reply, "ERROR", e.sqlState(), e.getMessage(), e.detail(), e.hint());
    }

    private static String queryText(ByteBuf buf, int at, int end) {
        return Wire.readCString(buf, at + 5, end, "Query");
    }

    private static String parseText(ByteBuf buf, int nameEnd, int end) {
        return Wire.readCString(buf, nameEnd, end, "Parse query");
    }

    private static String bindStatement(ByteBuf buf, int at, int end) {
        int portalEnd = MessageNames.bindPortalEnd(buf, at, end);
        return MessageNames.read(buf, portalEnd, MessageNames.bindStatementEnd(buf, portalEnd, end));
    }

    /** A cheap filter before decoding: whether {@code buf[from, to)} contains "pgbalancer" in any ASCII case. */
    private static boolean mentionsPgbalancer(ByteBuf buf, int from, int to) {
        int last = to - PGBALANCER.length;
        int i = from;
        while (i <= last) {
            i = buf.forEachByte(i, last + 1 - i, NOT_P); // one bounds check for the scan, not one per byte
            if (i < 0) {
                return false;
            }
            int k = 1;
            while (k < PGBALANCER.length && (buf.getByte(i + k) | 0x20) == PGBALANCER[k]) {
                k++;
            }
            if (k == PGBALANCER.length) {
                return true;
            }
            i++;
        }
        return false;
    }

    private static int readShort(ByteBuf buf, int i, int end) {
        if (i + 2 > end) {
            throw new ProxyError("08P01", "insufficient data left in message");
        }
        return buf.getUnsignedShort(i);
    }

    private static int readInt(ByteBuf buf, int i, int end) {
        if (i + 4 > end) {
            throw new ProxyError("08P01", "insufficient data left in message");
        }
        return buf.getInt(i);
    }
}

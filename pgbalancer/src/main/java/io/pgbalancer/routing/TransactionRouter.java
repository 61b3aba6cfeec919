// Decides where the transaction that starts with a given client message runs, from its cached classification.
package io.pgbalancer.routing;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.sql.Classification;
import java.util.function.Function;

/**
 * Only the first message of a transaction matters: a backend is held until its ReadyForQuery says idle, so whatever
 * follows in the same transaction stays on the same server. Reads go to a replica only in autocommit, or inside
 * BEGIN READ ONLY, or when the session's default_transaction_read_only is on; everything else, and anything the
 * classifier cannot read, goes to the primary.
 */
public final class TransactionRouter {

    /**
     * The target of the cycle starting at {@code at}: the first message decides, unless a later statement of the
     * same cycle (up to its Sync, within the bytes at hand) needs the primary, as in pgjdbc's batched
     * {@code SELECT …; INSERT …} under one Sync.
     *
     * @param namedStatement the client's classification of a named statement (for Bind/Describe), or null
     * @param readOnlySession whether the session's default_transaction_read_only is on
     */
    public Target routeCycle(ByteBuf buf, int at, TextClassifier texts,
                             Function<String, Classification> namedStatement, boolean readOnlySession) {
        at = firstDeciding(buf, at);
        Classification c0 = classification(buf, at, Frames.length(buf, at), texts, namedStatement);
        Target first = c0 == null ? (readOnlySession ? Target.REPLICA : Target.PRIMARY) : decide(c0, readOnlySession);
        if (first == Target.PRIMARY || readOnlySession || buf.getByte(at) == 'Q'
                || c0.txn() == Classification.TxnControl.BEGIN_READ_ONLY) {
            return first; // a declared read-only transaction stays read-only, wherever it runs
        }
        int end = buf.writerIndex();
        for (int i = Frames.next(buf, at); i + 5 <= end; ) {
            byte type = buf.getByte(i);
            int length = Frames.length(buf, i);
            if (type == 'S' || type == 'Q' || i + length > end) {
                break;
            }
            Classification c = classification(buf, i, length, texts, namedStatement);
            if (c != null && decide(c, false) == Target.PRIMARY) {
                return Target.PRIMARY;
            }
            i += length;
        }
        return first;
    }

    /**
     * The classification of the statement that decides where the cycle at {@code at} runs (see routeCycle), or null;
     * read for its hints (a read's max_staleness).
     */
    public Classification deciding(ByteBuf buf, int at, TextClassifier texts,
                                   Function<String, Classification> namedStatement) {
        at = firstDeciding(buf, at);
        return classification(buf, at, Frames.length(buf, at), texts, namedStatement);
    }

    /**
     * Skips leading messages that carry no statement: pgjdbc starts a cycle with Close of a statement it evicted from
     * its cache, then Parse/Bind/Execute of the real one; the Close must not send that read to the primary.
     */
    private static int firstDeciding(ByteBuf buf, int at) {
        int end = buf.writerIndex();
        while (true) {
            byte type = buf.getByte(at);
            int next = Frames.next(buf, at);
            if ((type != 'C' && type != 'H') || next + 5 > end || buf.getByte(next) == 'S') {
                return at;
            }
            at = next;
        }
    }

    /**
     * @param namedStatement the client's classification of a named statement (for Bind/Describe), or null
     * @param readOnlySession whether the session's default_transaction_read_only is on
     */
    public Target route(ByteBuf buf, int at, int length, TextClassifier texts,
                        Function<String, Classification> namedStatement, boolean readOnlySession) {
        Classification c = classification(buf, at, length, texts, namedStatement);
        if (c == null) {
            return readOnlySession ? Target.REPLICA : Target.PRIMARY;
        }
        return decide(c, readOnlySession);
    }

    /** The classification of a Query, Parse, or Bind/Describe of a known named statement; null otherwise. */
    private static Classification classification(ByteBuf buf, int at, int length, TextClassifier texts,
                                                 Function<String, Classification> namedStatement) {
        int end = at + length;
        return switch (buf.getByte(at)) {
            case 'Q' -> texts.classify(buf, at + 5, end);
            case 'P' -> texts.classify(buf, MessageNames.parseStatementEnd(buf, at, end), end);
            case 'B' -> named(buf, MessageNames.bindPortalEnd(buf, at, end), end, namedStatement);
            case 'D' -> MessageNames.targetKind(buf, at, end) == 'S' ? named(buf, at + 6, end, namedStatement) : null;
            default -> null;
        };
    }

    static Target decide(Classification c, boolean readOnlySession) {
        if (c.hint() == Classification.Hint.REPLICA) {
            return Target.REPLICA;
        }
        if (c.hint() == Classification.Hint.PRIMARY) {
            return Target.PRIMARY;
        }
        return switch (c.txn()) {
            case BEGIN_READ_ONLY -> Target.REPLICA;
            case BEGIN -> readOnlySession ? Target.REPLICA : Target.PRIMARY;
            // a statement that pins the session (a session advisory lock, LISTEN, a temp table) goes to the primary
            // even in a read-only session: a lock taken on a replica would exclude nobody
            default -> !c.pins() && (readOnlySession || (c.isRead() && c.sets().isEmpty()))
                    ? Target.REPLICA : Target.PRIMARY;
        };
    }


    private static Classification named(ByteBuf buf, int nameAt, int end,
                                        Function<String, Classification> namedStatement) {
        int afterName = MessageNames.bindStatementEnd(buf, nameAt, end);
        if (MessageNames.isUnnamed(nameAt, afterName)) {
            return null; // the unnamed statement never outlives a transaction here
        }
        return namedStatement.apply(MessageNames.read(buf, nameAt, afterName));
    }
}

// Decides where the transaction that starts with a given client message runs, from its cached classification.
package io.pgbalancer.routing;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.MessageNames;
import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.SessionSet;
import java.util.function.Function;

/**
 * Only the first message of a transaction matters: a backend is held until its ReadyForQuery says idle, so whatever
 * follows in the same transaction stays on the same server. Reads go to a replica only in autocommit, or inside
 * BEGIN READ ONLY, or when the session's default_transaction_read_only is on. A cycle of nothing but session-level
 * SET/RESET statements may run on any server ({@link Target#ANY}): pgbalancer tracks the settings and replays them
 * wherever the session goes next. Everything else, and anything the classifier cannot read, goes to the primary.
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
            // reads mixed with settings-only statements: the primary, as a SET alone went before there was ANY
            if (c != null && decide(c, false) != first) {
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
            default -> !c.pins() && (readOnlySession || (c.isRead() && c.sets().isEmpty())) ? Target.REPLICA
                    : onlySessionSettings(c) ? Target.ANY : Target.PRIMARY;
        };
    }

    /**
     * Whether every statement of {@code c} is a session-level SET or RESET of one parameter that a standby accepts
     * too. Not SET LOCAL, SET TRANSACTION or SET CONSTRAINTS (transaction scoped: the classifier records no setting,
     * so such a statement is not covered), not SET ROLE/SESSION AUTHORIZATION (they pin), not RESET ALL or DISCARD
     * ALL, and not the transaction_* parameters: a standby refuses {@code transaction_read_only = off} and
     * {@code transaction_isolation = serializable} (0A000). default_transaction_* and SET SESSION CHARACTERISTICS are
     * only defaults for later transactions, which a standby accepts; the routing of those transactions follows them.
     */
    static boolean onlySessionSettings(Classification c) {
        if (c.pins() || c.txn() != Classification.TxnControl.NONE || c.sets().isEmpty()) {
            return false;
        }
        int covered = 0;
        int last = -1;
        for (SessionSet set : c.sets()) { // in statement order
            if ((set.kind() != SessionSet.Kind.SET && set.kind() != SessionSet.Kind.RESET)
                    || set.name().startsWith("transaction_")) {
                return false;
            }
            if (set.statement() != last) {
                last = set.statement();
                covered++;
            }
        }
        return covered == c.statementCount();
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

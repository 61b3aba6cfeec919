// Decides where the transaction that starts with a given client message runs, from its cached classification.
package io.pgbalancer.routing;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.StatementClassifier;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Only the first message of a transaction matters: a backend is held until its ReadyForQuery says idle, so whatever
 * follows in the same transaction stays on the same server. Reads go to a replica only in autocommit, or inside
 * BEGIN READ ONLY, or when the session's default_transaction_read_only is on; everything else, and anything the
 * classifier cannot read, goes to the primary.
 */
public final class TransactionRouter {
    private final StatementClassifier classifier;

    public TransactionRouter(StatementClassifier classifier) {
        this.classifier = classifier;
    }

    /**
     * @param namedStatement the client's classification of a named statement (for Bind/Describe), or null
     * @param readOnlySession whether the session's default_transaction_read_only is on
     */
    public Target route(ByteBuf buf, int at, int length, Function<String, Classification> namedStatement,
                        boolean readOnlySession) {
        byte type = buf.getByte(at);
        int end = at + length;
        Classification c;
        switch (type) {
            case 'Q' -> c = classify(buf, at + 5, end);
            case 'P' -> c = classify(buf, Wire.endOfCString(buf, at + 5, end, "Parse statement name"), end);
            case 'B' -> {
                int afterPortal = Wire.endOfCString(buf, at + 5, end, "Bind portal");
                c = named(buf, afterPortal, end, namedStatement);
            }
            case 'D' -> c = buf.getByte(at + 5) == 'S' ? named(buf, at + 6, end, namedStatement) : null;
            default -> c = null;
        }
        if (c == null) {
            return readOnlySession ? Target.REPLICA : Target.PRIMARY;
        }
        return decide(c, readOnlySession);
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
            default -> (readOnlySession || (c.isRead() && !c.pins() && c.sets().isEmpty()))
                    ? Target.REPLICA : Target.PRIMARY;
        };
    }

    private Classification classify(ByteBuf buf, int from, int end) {
        int nul = buf.indexOf(from, end, (byte) 0);
        return classifier.classify(buf.toString(from, (nul < 0 ? end : nul) - from, StandardCharsets.UTF_8));
    }

    private static Classification named(ByteBuf buf, int nameAt, int end,
                                        Function<String, Classification> namedStatement) {
        int afterName = Wire.endOfCString(buf, nameAt, end, "statement name");
        if (afterName - nameAt <= 1) {
            return null; // the unnamed statement never outlives a transaction here
        }
        return namedStatement.apply(buf.toString(nameAt, afterName - 1 - nameAt, StandardCharsets.UTF_8));
    }
}

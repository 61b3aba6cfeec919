// Remembers the classification of the message routing just looked at, so relaying it does not classify it again.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.routing.TextClassifier;
import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.StatementClassifier;
import java.nio.charset.StandardCharsets;

/**
 * The first message of a transaction is classified to route it and again to relay it; both look at the same bytes
 * of the same chunk. One entry keyed by (buffer, offset) saves the second String decode and cache lookup. The entry
 * must be forgotten once the chunk is relayed: pooled buffer objects are recycled and a stale key could match.
 */
final class StatementMemo implements TextClassifier {
    private final StatementClassifier classifier;
    private ByteBuf buf;
    private int from;
    private Classification classification;

    StatementMemo(StatementClassifier classifier) {
        this.classifier = classifier;
    }

    @Override
    public Classification classify(ByteBuf b, int start, int end) {
        if (b == buf && start == from) {
            return classification;
        }
        int nul = b.indexOf(start, end, (byte) 0);
        Classification c = classifier.classify(b.toString(start, (nul < 0 ? end : nul) - start,
                StandardCharsets.UTF_8));
        buf = b;
        from = start;
        classification = c;
        return c;
    }

    void forget() {
        buf = null;
        classification = null;
    }
}

// Remembers the classification of the message routing just looked at, so relaying it does not classify it again.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.pgbalancer.routing.TextClassifier;
import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.PlainSelect;
import io.pgbalancer.sql.StatementClassifier;
import java.nio.charset.StandardCharsets;

/**
 * The first message of a transaction is classified to route it and again to relay it; both look at the same bytes
 * of the same chunk. One entry keyed by (buffer, offset) saves the second String decode and cache lookup. The entry
 * must be forgotten once the chunk is relayed: pooled buffer objects are recycled and a stale key could match.
 */
final class StatementMemo implements TextClassifier {
    /** Texts up to this many bytes are first tried by {@link PlainSelect}, from a copy in the thread's scratch. */
    static final int PLAIN_SELECT_MAX = 512;
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[PLAIN_SELECT_MAX];
        }
    };

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
        int len = (nul < 0 ? end : nul) - start;
        Classification c = isPlainSelect(b, start, len) ? StatementClassifier.PLAIN_READ
                : classifier.classify(b.toString(start, len, StandardCharsets.UTF_8));
        buf = b;
        from = start;
        classification = c;
        return c;
    }

    private static boolean isPlainSelect(ByteBuf b, int start, int len) {
        if (len > PLAIN_SELECT_MAX) {
            return false;
        }
        byte[] text = SCRATCH.get();
        b.getBytes(start, text, 0, len);
        return PlainSelect.matches(text, len);
    }

    void forget() {
        buf = null;
        classification = null;
    }
}

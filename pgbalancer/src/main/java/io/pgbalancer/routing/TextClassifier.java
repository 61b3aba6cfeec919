// Classifies the statement text held in a message buffer, so a session can classify each message only once.
package io.pgbalancer.routing;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.sql.Classification;

@FunctionalInterface
public interface TextClassifier {
    /** The statement text runs from {@code from} to the first NUL before {@code end}. */
    Classification classify(ByteBuf buf, int from, int end);
}

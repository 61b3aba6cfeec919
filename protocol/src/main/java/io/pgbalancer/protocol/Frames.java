// Walks a buffer of complete typed messages: the one place outside FrameScanner that reads frame headers.
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;

public final class Frames {
    private Frames() {
    }

    /** Total length of the typed message at {@code at}, its type byte and length field included. */
    public static int length(ByteBuf buf, int at) {
        return buf.getInt(at + 1) + 1;
    }

    /** Index of the message after the one at {@code at}: for loops that look ahead without a visitor object. */
    public static int next(ByteBuf buf, int at) {
        return at + length(buf, at);
    }

    /**
     * Calls {@code visitor} for each message in {@code buf} from its reader index to its writer index (which must
     * hold complete messages, as FrameScanner hands them out), until it returns false. Indexes are not moved.
     *
     * @return true when every message was visited, false when the visitor stopped the walk
     */
    public static boolean walk(ByteBuf buf, FrameVisitor visitor) {
        int at = buf.readerIndex();
        int end = buf.writerIndex();
        while (at < end) {
            int length = length(buf, at);
            if (!visitor.onFrame(buf.getByte(at), buf, at, length)) {
                return false;
            }
            at += length;
        }
        return true;
    }
}

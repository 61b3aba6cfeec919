// Callback for each complete message found by FrameScanner; the message stays in the scanner's buffer.
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;

@FunctionalInterface
public interface FrameVisitor {
    /**
     * @param type   the message type byte, or 0 for an untyped startup-phase packet
     * @param buf    the buffer holding the message; do not move its indexes
     * @param start  index of the first byte of the message (its type byte, or its length for untyped packets)
     * @param length total length of the message in bytes, header included
     * @return false to stop scanning after this message (the rest stays buffered)
     */
    boolean onFrame(byte type, ByteBuf buf, int start, int length);
}

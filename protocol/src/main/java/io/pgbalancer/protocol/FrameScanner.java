// Accumulates received bytes and walks the complete PostgreSQL messages in them without copying or allocating.
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * Frames are {@code byte type, int32 length, payload} once a session is started, and {@code int32 length, payload}
 * before (startup packets). The scanner never allocates from an unchecked length: a length below the minimum or
 * above the limit raises a {@link ProtocolException} before anything is buffered for it.
 */
public final class FrameScanner {
    /** The server's own limit on startup packets. */
    public static final int MAX_STARTUP_PACKET = 10_000;

    private final String peer;
    private int maxMessageSize;
    private boolean typed;
    private ByteBuf cumulation;

    public FrameScanner(String peer, boolean typed, int maxMessageSize) {
        this.peer = peer;
        this.typed = typed;
        this.maxMessageSize = maxMessageSize;
    }

    /** Switches from untyped startup packets to typed messages (after the startup packet was accepted). */
    public void startTyped() {
        typed = true;
    }

    public boolean isTyped() {
        return typed;
    }

    /** Adds received bytes; takes ownership of {@code in}. */
    public void add(ByteBufAllocator alloc, ByteBuf in) {
        if (cumulation == null) {
            cumulation = in;
        } else {
            cumulation = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
        }
    }

    /** The accumulated buffer (may be null); callers take retained slices of visited frames from it. */
    public ByteBuf buffer() {
        return cumulation;
    }

    /**
     * Calls the visitor for each complete message, in order, and marks the visited ones consumed.
     * Stops early when the visitor returns false. Call {@link #compact()} once the visited frames are handled.
     */
    public void scan(FrameVisitor visitor) {
        ByteBuf buf = cumulation;
        if (buf == null) {
            return;
        }
        while (buf.readableBytes() >= (typed ? 5 : 4)) {
            int start = buf.readerIndex();
            byte type = typed ? buf.getByte(start) : 0;
            int declared = buf.getInt(typed ? start + 1 : start);
            int minimum = 4;
            int limit = typed ? maxMessageSize : MAX_STARTUP_PACKET;
            if (declared < minimum || declared > limit) {
                throw new ProtocolException(describe(type) + " length: " + declared + " (expected: " + minimum
                        + " to " + limit + ")");
            }
            int length = typed ? declared + 1 : declared;
            if (buf.readableBytes() < length) {
                break;
            }
            buf.readerIndex(start + length);
            if (!visitor.onFrame(type, buf, start, length)) {
                break;
            }
        }
    }

    /**
     * The complete messages buffered so far, as one retained slice (null when there is none); they are consumed.
     * The caller owns the slice. Lengths are checked as in {@link #scan}.
     */
    public ByteBuf takeCompleteFrames() {
        ByteBuf buf = cumulation;
        if (buf == null) {
            return null;
        }
        int from = buf.readerIndex();
        scan((type, b, start, length) -> true);
        int to = buf.readerIndex();
        ByteBuf frames = to > from ? buf.retainedSlice(from, to - from) : null;
        compact();
        return frames;
    }

    private String describe(byte type) {
        return typed ? peer + " message '" + (char) type + "'" : peer + " startup packet";
    }

    /** Frees consumed bytes; call after the visited frames were written or sliced. */
    public void compact() {
        if (cumulation != null && !cumulation.isReadable()) {
            cumulation.release();
            cumulation = null;
        } else if (cumulation != null && cumulation.readerIndex() > 64 * 1024 && cumulation.refCnt() == 1) {
            // only when no retained slice still views the consumed bytes (they may be queued for writing)
            cumulation.discardSomeReadBytes();
        }
    }

    public boolean hasBufferedBytes() {
        return cumulation != null && cumulation.isReadable();
    }

    public void release() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }
}

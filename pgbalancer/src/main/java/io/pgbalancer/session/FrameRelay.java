// Shared skeleton of both relay directions: walk a chunk of complete messages, forward untouched runs as slices.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.FrameVisitor;
import io.pgbalancer.protocol.Frames;

/**
 * Most messages pass through unchanged, so a relay only marks where untouched runs end: a message it replaces,
 * hides or answers itself cuts the run, and each run goes out as one retained slice of the received buffer.
 */
abstract class FrameRelay implements FrameVisitor {
    protected final OutboundBatch out = new OutboundBatch();
    private ByteBuf frames;
    private int runStart;

    /** Handles one message; returns false to stop walking the chunk (the rest is dropped). */
    @Override
    public abstract boolean onFrame(byte type, ByteBuf buf, int at, int length);

    /** Called after the walk with the batch of output, when the walk was not stopped. */
    protected abstract void flush();

    /** Walks {@code chunk} (complete messages); takes ownership of it. */
    final void walk(ByteBuf chunk) {
        frames = chunk;
        runStart = chunk.readerIndex();
        try {
            if (Frames.walk(chunk, this)) {
                endRun(chunk.writerIndex());
                flush();
            }
        } finally {
            out.discard();
            chunk.release();
            frames = null;
        }
    }

    /** Ends the untouched run before a message the relay replaces or drops. */
    protected final void cut(int at, int length) {
        endRun(at);
        runStart = at + length;
    }

    /** Adds the untouched run up to {@code upTo} to the output. */
    protected final void endRun(int upTo) {
        if (upTo > runStart) {
            out.add(frames.retainedSlice(runStart, upTo - runStart));
        }
        runStart = upTo;
    }
}

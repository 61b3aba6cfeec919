// Client messages that arrived while the session had no backend to send them to, or had to hold them back.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;

final class WaitingInput {
    /** Beyond this the client is not read until a backend takes the queued messages. */
    static final int MAX_BYTES = 256 * 1024;

    private ArrayDeque<ByteBuf> chunks;
    private int bytes;
    /** The head is a later cycle that must not run on the current backend: it waits until that one is done. */
    private boolean holding;

    /** Holds {@code rest}, cut from input that arrived earlier, ahead of everything queued. */
    void hold(ByteBuf rest) {
        addFirst(rest);
        holding = true;
    }

    boolean isHolding() {
        return holding;
    }

    /** Ends a hold (the current backend is done); returns whether there was one. */
    boolean endHold() {
        boolean was = holding;
        holding = false;
        return was;
    }

    void add(ByteBuf chunk) {
        queue().addLast(chunk);
        bytes += chunk.readableBytes();
    }

    private void addFirst(ByteBuf chunk) {
        queue().addFirst(chunk);
        bytes += chunk.readableBytes();
    }

    ByteBuf poll() {
        ByteBuf next = chunks == null ? null : chunks.poll();
        if (next != null) {
            bytes -= next.readableBytes();
        }
        return next;
    }

    /** Everything queued, in order, leaving this queue empty. */
    ArrayDeque<ByteBuf> takeAll() {
        ArrayDeque<ByteBuf> all = chunks == null ? new ArrayDeque<>(0) : chunks;
        chunks = null;
        bytes = 0;
        holding = false;
        return all;
    }

    boolean isEmpty() {
        return chunks == null || chunks.isEmpty();
    }

    boolean isFull() {
        return bytes >= MAX_BYTES;
    }

    void release() {
        takeAll().forEach(ByteBuf::release);
    }

    private ArrayDeque<ByteBuf> queue() {
        if (chunks == null) {
            chunks = new ArrayDeque<>(2);
        }
        return chunks;
    }
}

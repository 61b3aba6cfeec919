// Client messages that arrived while the session had no backend to send them to, or had to hold them back.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;

final class WaitingInput {
    /** Beyond this the client is not read until a backend takes the queued messages. */
    static final int MAX_BYTES = 256 * 1024;

    private ArrayDeque<ByteBuf> chunks;
    private int bytes;

    void add(ByteBuf chunk) {
        queue().addLast(chunk);
        bytes += chunk.readableBytes();
    }

    /** Puts {@code chunk} ahead of everything queued (it was cut from input that arrived earlier). */
    void addFirst(ByteBuf chunk) {
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

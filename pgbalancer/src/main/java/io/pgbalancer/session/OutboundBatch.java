// Collects the pieces of one outgoing burst (forwarded slices and proxy-made messages) and writes them at once.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;

/** One flush per burst keeps pipelined traffic in one syscall and costs one task when the channel is on another loop. */
final class OutboundBatch {
    private ByteBuf single;
    private CompositeByteBuf many;

    void add(ByteBuf piece) {
        if (single == null && many == null) {
            single = piece;
        } else {
            if (many == null) {
                many = single.alloc().compositeBuffer(64);
                many.addComponent(true, single);
                single = null;
            }
            many.addComponent(true, piece);
        }
    }

    /** Moves everything collected here to the end of {@code target}. */
    void moveTo(OutboundBatch target) {
        if (many != null) {
            target.add(many);
        } else if (single != null) {
            target.add(single);
        }
        single = null;
        many = null;
    }

    boolean isEmpty() {
        return single == null && many == null;
    }

    void writeTo(Channel channel) {
        ByteBuf out = many != null ? many : single;
        single = null;
        many = null;
        if (out != null) {
            channel.writeAndFlush(out, channel.voidPromise());
        }
    }

    void discard() {
        ByteBuf out = many != null ? many : single;
        single = null;
        many = null;
        if (out != null) {
            out.release();
        }
    }
}

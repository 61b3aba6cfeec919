// Keeps a replica-routed read replayable until the client has seen something, so it can run again elsewhere.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;

/**
 * While a read on a replica has sent nothing to its client, pgbalancer keeps a copy of the client's messages and
 * holds back the replica's preamble answers (ParseComplete, BindComplete, CloseComplete, ParameterDescription,
 * NoData, RowDescription). If the replica then refuses the statement as a write (SQLSTATE 25006), or dies, the read runs again on
 * another server and the client never sees the failure. The first real answer (a row, a command tag, an error,
 * ReadyForQuery) ends the window: from then on everything is forwarded as usual.
 */
final class ReadReplay {
    /** Past this many bytes of client messages the read is no longer kept for replay. */
    static final int MAX_BYTES = 1 << 20;

    /** Bookkeeping that must follow the window: what the read changed is undone on replay, final when it closes. */
    interface Listener {
        /** The recorded messages are about to run again elsewhere; nothing they did happened for the client. */
        void replayed();

        /** The window closed without a replay (the client saw an answer, the read outgrew it, or it ended). */
        void windowEnded();
    }

    private Listener listener;

    private CompositeByteBuf sent;
    /** Answers kept back while the window is open; made by the first one held, dropped when the window ends. */
    private OutboundBatch heldAnswers;
    private boolean open;
    private Channel channel;

    void listener(Listener l) {
        this.listener = l;
    }

    /** Starts a window (a read was just routed to a replica); allocates nothing until something is recorded. */
    void open(Channel channel) {
        close();
        this.channel = channel;
        open = true;
    }

    boolean isOpen() {
        return open;
    }

    /** Remembers client messages on their way to the replica; gives up on very large ones. */
    void record(ByteBuf frames) {
        if (!open) {
            return;
        }
        if (sent == null) {
            sent = channel.alloc().compositeBuffer(16);
        }
        if (sent.readableBytes() + frames.readableBytes() > MAX_BYTES) {
            close();
            return;
        }
        sent.addComponent(true, frames.retainedDuplicate());
    }

    /** Forgets the last {@code bytes} recorded (they were held back for a later cycle, not sent). */
    void unrecord(int bytes) {
        if (open && sent != null) {
            sent.writerIndex(sent.writerIndex() - bytes);
        }
    }

    /** Keeps answers back while the window is open; returns false when they must go to the client now. */
    boolean holdBack(OutboundBatch out) {
        if (!open) {
            return false;
        }
        if (heldAnswers == null) {
            heldAnswers = new OutboundBatch();
        }
        out.moveTo(heldAnswers);
        return true;
    }

    /** Ends the window: held answers go out first (into {@code out}'s front is not possible, so into a new batch). */
    void commit(OutboundBatch out) {
        if (!open) {
            return;
        }
        if (heldAnswers != null) {
            OutboundBatch ordered = new OutboundBatch();
            heldAnswers.moveTo(ordered);
            out.moveTo(ordered);
            ordered.moveTo(out);
        }
        close();
    }

    /**
     * The client sent Flush: it is waiting for the answers so far and will not send Sync until it has them. The
     * held answers go out now and the read stops being replayable (a retry could no longer stay invisible).
     */
    void endForFlush() {
        if (open) {
            if (heldAnswers != null) {
                heldAnswers.writeTo(channel);
            }
            close();
        }
    }

    /** Ends the window for a replay: the held answers are dropped, the client's messages handed back. */
    ByteBuf takeForReplay() {
        discardHeld();
        ByteBuf copy = sent != null ? sent : io.netty.buffer.Unpooled.EMPTY_BUFFER;
        sent = null;
        open = false;
        if (listener != null) {
            listener.replayed();
        }
        return copy;
    }

    void close() {
        discardHeld();
        if (sent != null) {
            sent.release();
            sent = null;
        }
        boolean wasOpen = open;
        open = false;
        if (wasOpen && listener != null) {
            listener.windowEnded();
        }
    }

    private void discardHeld() {
        if (heldAnswers != null) {
            heldAnswers.discard();
            heldAnswers = null;
        }
    }
}

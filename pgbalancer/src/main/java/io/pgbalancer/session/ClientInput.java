// Client input on its way to a backend: a cycle's first message starts a checkout; what must wait queues, in order.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.routing.Target;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** Every path of client input ends in relayClient, so a protocol violation always ends the session. */
final class ClientInput {
    private final ClientSession s;
    private final Checkout checkout;
    private final FrontendRelay frontend;
    private final WaitingInput waiting = new WaitingInput();
    /** Leading Close messages whose cycle's deciding statement has not arrived yet (see onlyCloses). */
    private ByteBuf undecided;

    ClientInput(ClientSession session, Checkout checkout) {
        this.s = session;
        this.checkout = checkout;
        this.frontend = new FrontendRelay(session);
    }

    boolean isFull() {
        return waiting.isFull();
    }

    /** Whether the client's messages sent so far end a segment (see FrontendRelay.segmentEnded). */
    boolean segmentEnded() {
        return frontend.segmentEnded();
    }

    /** Sends a settings restore behind the client's next Sync, Query or FunctionCall. */
    void restoreAtSegmentEnd(String sql) {
        frontend.restoreAtSegmentEnd(sql);
    }

    /** Ends a hold (the backend that had to finish first is done); returns whether there was one. */
    boolean endHold() {
        return waiting.endHold();
    }

    void release() {
        waiting.release();
        if (undecided != null) {
            undecided.release();
            undecided = null;
        }
    }

    /**
     * A chunk of nothing but Close messages: pgjdbc starts a cycle by closing statements it evicted from its cache,
     * and the Parse or Bind that says where the cycle belongs can arrive in the next TCP segment. Without Flush or
     * Sync the client waits for no answer, so the chunk can wait for the rest instead of sending a read to the
     * primary.
     */
    private static boolean onlyCloses(ByteBuf frames) {
        return Frames.walk(frames, (type, buf, at, length) -> type == 'C');
    }

    /** Complete client messages; takes ownership of {@code frames}. */
    void onFrames(ByteBuf frames) {
        if (s.isClosed()) {
            frames.release();
            return;
        }
        if (!s.lease.isAttached() && frames.getByte(frames.readerIndex()) == 'X') {
            frames.release(); // Terminate between transactions: nothing to borrow a backend for
            s.client.close();
            s.onClientClosed();
            return;
        }
        if (!s.lease.isAttached() && !checkout.isWaiting()) {
            if (undecided != null) {
                frames = s.client.alloc().compositeBuffer(2).addComponents(true, undecided, frames);
                undecided = null;
            }
            if (answerVirtual(frames)) {
                return;
            }
            if (onlyCloses(frames)) {
                undecided = frames; // the statement that decides where this cycle runs is still on its way
                return;
            }
            Target forced = checkout.takeForced();
            Target target;
            try {
                target = forced != null ? forced : checkout.route(frames, frames.readerIndex());
            } catch (ProtocolException e) { // a malformed first message: routing reads it before anything else
                frames.release();
                s.terminate(e.sqlState(), e.getMessage());
                return;
            }
            // Queued before the checkout: one that completes at once (a connection another event loop released
            // since pollIdle) attaches it and sends what is queued from onCheckedOut. Queued after, the message was
            // not there yet, the connection went back idle, and the message stayed queued with no checkout pending
            // (a client that hung with io_threads > 1).
            waiting.add(frames);
            BackendConnection idle = checkout.idleOrWait(target);
            if (idle != null) {
                s.attach(idle);
                relayWaiting();
            }
            if (!s.isClosed()) {
                s.updateClientAutoRead();
            }
            return;
        }
        if (s.lease.isAttached() && !waiting.isHolding()) {
            relayClient(frames);
        } else {
            waiting.add(frames);
            s.updateClientAutoRead();
        }
    }

    /**
     * Between transactions, answers what pgbalancer answers itself at the start of {@code frames} (SET/SHOW/RESET
     * pgbalancer.*, see ProxyStatements), then handles the rest of the chunk as usual. Returns whether it took
     * {@code frames}.
     */
    private boolean answerVirtual(ByteBuf frames) {
        List<ByteBuf> out = new ArrayList<>(1);
        try {
            if (!proxyClaims(frames, frames.readerIndex())) {
                return false;
            }
            s.proxy().answer(frames, s.client.alloc(), out, 'I'); // no backend attached: no transaction is open
        } catch (ProtocolException e) {
            out.forEach(ByteBuf::release);
            frames.release();
            s.terminate(e.sqlState(), e.getMessage());
            return true;
        }
        out.forEach(s.client::write);
        s.client.flush();
        if (frames.isReadable()) {
            onFrames(frames);
        } else {
            frames.release();
        }
        return true;
    }

    /**
     * ProxyStatements.claims, without making the session's ProxyStatements for a message it cannot claim: while it
     * does not exist its state is empty (no cycle open, no virtual statement or portal), and then it claims only a
     * Query or Parse whose text names pgbalancer (case-insensitively). Any other message is not looked at further.
     */
    private boolean proxyClaims(ByteBuf frames, int at) {
        if (!s.hasProxyStatements()) {
            byte type = frames.getByte(at);
            if ((type != 'Q' && type != 'P') || !namesPgbalancer(frames, at + 5, Frames.next(frames, at))) {
                return false;
            }
        }
        return s.proxy().claims(frames, at);
    }

    private static final byte[] PGBALANCER = "pgbalancer".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Whether bytes {@code from} to {@code to} contain "pgbalancer", in any case (as ProxyStatements looks). */
    private static boolean namesPgbalancer(ByteBuf buf, int from, int to) {
        for (int i = from, last = to - PGBALANCER.length; i <= last; i++) {
            int k = 0;
            while (k < PGBALANCER.length && (buf.getByte(i + k) | 0x20) == PGBALANCER[k]) {
                k++;
            }
            if (k == PGBALANCER.length) {
                return true;
            }
        }
        return false;
    }

    /** Sends queued input to the attached backend, in order, until it is used up or a cycle must wait. */
    void relayWaiting() {
        while (!waiting.isEmpty() && s.lease.isAttached() && !s.isClosed() && !waiting.isHolding()) {
            relayClient(waiting.poll());
        }
    }

    private void relayClient(ByteBuf frames) {
        s.lease.replay().record(frames);
        try {
            switch (frontend.relay(frames)) {
                case HELD -> {
                    ByteBuf rest = frontend.takeHeld();
                    s.lease.replay().unrecord(rest.readableBytes());
                    waiting.hold(rest);
                }
                case TERMINATED -> s.onClientTerminate(frontend.segmentEnded());
                case SENT -> {
                }
            }
        } catch (ProtocolException e) {
            s.terminate(e.sqlState(), e.getMessage());
        } finally {
            s.memo.forget();
        }
    }

    /** Runs {@code first} again from scratch on {@code target} (a re-run read), then routes held input afresh. */
    void reroute(ByteBuf first, Target target) {
        ArrayDeque<ByteBuf> held = waiting.takeAll();
        checkout.force(target);
        if (first.isReadable()) {
            onFrames(first);
        } else {
            first.release();
            checkout.takeForced();
        }
        while (!held.isEmpty()) {
            onFrames(held.poll());
        }
    }

    /** Routes held input afresh, in order, once the backend it waited for was released. */
    void reroute() {
        ArrayDeque<ByteBuf> held = waiting.takeAll();
        while (!held.isEmpty()) {
            onFrames(held.poll());
        }
    }
}

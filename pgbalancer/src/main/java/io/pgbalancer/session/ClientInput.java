// Client input on its way to a backend: a cycle's first message starts a checkout; what must wait queues, in order.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.routing.Target;
import java.util.ArrayDeque;

/** Every path of client input ends in relayClient, so a protocol violation always ends the session. */
final class ClientInput {
    private final ClientSession s;
    private final Checkout checkout;
    private final FrontendRelay frontend;
    private final WaitingInput waiting = new WaitingInput();

    ClientInput(ClientSession session, Checkout checkout) {
        this.s = session;
        this.checkout = checkout;
        this.frontend = new FrontendRelay(session);
    }

    boolean isFull() {
        return waiting.isFull();
    }

    /** Ends a hold (the backend that had to finish first is done); returns whether there was one. */
    boolean endHold() {
        return waiting.endHold();
    }

    void release() {
        waiting.release();
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
            Target forced = checkout.takeForced();
            Target target = forced != null ? forced : checkout.route(frames, frames.readerIndex());
            BackendConnection idle = checkout.idleOrWait(target);
            if (idle != null) {
                s.attach(idle);
            } else if (s.isClosed()) {
                frames.release();
                return;
            }
        }
        if (s.lease.isAttached() && !waiting.isHolding()) {
            relayClient(frames);
        } else {
            waiting.add(frames);
            s.updateClientAutoRead();
        }
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
                case TERMINATED -> s.onClientTerminate();
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

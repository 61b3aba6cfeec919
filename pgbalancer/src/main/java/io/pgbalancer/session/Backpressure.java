// Flow control between a client and its backend: stop reading the side whose peer cannot take more.
package io.pgbalancer.session;

import io.pgbalancer.pool.BackendConnection;

/** Netty's AUTO_READ is switched off on the producing side and back on when the consumer becomes writable again. */
final class Backpressure {
    private final ClientSession s;

    Backpressure(ClientSession session) {
        this.s = session;
    }

    /** The client cannot keep up: stop reading the backend until it can. */
    void clientWritabilityChanged() {
        BackendConnection b = s.lease.backend();
        if (b != null) {
            b.channel().config().setAutoRead(s.client.isWritable());
        }
    }

    /** Reads the client unless it has queued a lot while waiting, or its backend cannot take more. */
    void updateClientAutoRead(boolean open, boolean inputFull) {
        BackendConnection b = s.lease.backend();
        s.client.config().setAutoRead(open && !inputFull && (b == null || b.channel().isWritable()));
    }
}

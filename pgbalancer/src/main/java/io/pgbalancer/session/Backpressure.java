// Flow control between a client and its backend: stop reading the side whose peer cannot take more.
package io.pgbalancer.session;

import io.pgbalancer.pool.BackendConnection;

/**
 * Netty's AUTO_READ is switched off on the producing side and back on when the consumer becomes writable again.
 * Stateless: static methods on the session, no instance per session (memory per idle client).
 */
final class Backpressure {
    private Backpressure() {
    }

    /** The client cannot keep up: stop reading the backend until it can. */
    static void clientWritabilityChanged(ClientSession s) {
        BackendConnection b = s.lease.backend();
        if (b != null) {
            b.channel().config().setAutoRead(s.client.isWritable());
        }
    }

    /** Reads the client unless it has queued a lot while waiting, or its backend cannot take more. */
    static void updateClientAutoRead(ClientSession s, boolean open, boolean inputFull) {
        BackendConnection b = s.lease.backend();
        s.client.config().setAutoRead(open && !inputFull && (b == null || b.channel().isWritable()));
    }
}

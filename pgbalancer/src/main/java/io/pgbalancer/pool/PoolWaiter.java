// A checkout waiting in a BackendPool's queue: its promise, the event loop of the client that asked, its deadline.
package io.pgbalancer.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;

final class PoolWaiter {
    final Promise<BackendConnection> promise;
    final EventLoop loop;
    final long deadlineNanos;
    /** How often a connection released on another loop went to a younger waiter (see {@link LoopAffinity}). */
    int passedOver;

    PoolWaiter(Promise<BackendConnection> promise, EventLoop loop, long deadlineNanos) {
        this.promise = promise;
        this.loop = loop;
        this.deadlineNanos = deadlineNanos;
    }
}

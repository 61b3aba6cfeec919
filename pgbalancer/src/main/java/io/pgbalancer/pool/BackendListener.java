// Receives a checked-out backend's traffic on the owning client's event loop.
package io.pgbalancer.pool;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;

public interface BackendListener {
    /** The event loop all calls are made on. */
    EventExecutor executor();

    /** Complete messages from the backend; the listener owns (and must release) {@code frames}. */
    void onBackendData(BackendConnection backend, ByteBuf frames);

    /** The backend connection closed or failed while owned by this listener. */
    void onBackendClosed(BackendConnection backend, Throwable cause);

    /** The backend's socket buffer filled up or drained: pause or resume reading the client that feeds it. */
    default void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
    }

    /** Who holds the backend, as the admin console's SHOW SERVERS names it (the client's address). */
    default String describeOwner() {
        return toString();
    }
}

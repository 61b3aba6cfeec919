// Cleans a backend whose client left it idle but carrying session state (DISCARD ALL), then returns it to its pool.
package io.pgbalancer.pool;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.pgbalancer.protocol.BackendMessage;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.Frames;

public final class BackendReset implements BackendListener {
    private boolean failed;

    private BackendReset() {
    }

    /** Requires: the backend answered everything and its last ReadyForQuery said idle. */
    public static void resetAndRelease(BackendConnection backend) {
        backend.owner(new BackendReset());
        ByteBuf q = backend.channel().alloc().buffer(32);
        ClientMessages.query(q, "DISCARD ALL");
        backend.channel().writeAndFlush(q);
    }

    @Override
    public EventExecutor executor() {
        return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE; // runs on the backend's own loop
    }

    @Override
    public void onBackendData(BackendConnection backend, ByteBuf frames) {
        try {
            Frames.walk(frames, (type, buf, at, length) -> {
                if (BackendMessage.of(type) == BackendMessage.ERROR_RESPONSE) {
                    failed = true;
                } else if (BackendMessage.of(type) == BackendMessage.READY_FOR_QUERY) {
                    backend.statements().clear();
                    backend.settings(null);
                    if (failed || buf.getByte(at + 5) != 'I') {
                        backend.markBroken();
                    }
                    backend.pool().release(backend);
                    return false;
                }
                return true;
            });
        } finally {
            frames.release();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, Throwable cause) {
        // the pool already forgot it
    }
}

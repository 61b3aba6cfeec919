// Sends a CancelRequest with a backend's own key to that backend's server, completing when the server hangs up.
package io.pgbalancer.cancel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgbalancer.net.Transport;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.protocol.ClientMessages;
import java.util.concurrent.TimeUnit;

public final class CancelForwarder {
    private static final int TIMEOUT_MILLIS = 5000;

    private CancelForwarder() {
    }

    /**
     * The server signals the backend before it closes the cancel connection, so once this completes the cancel
     * can no longer reach whatever query the backend runs next.
     */
    public static Future<Void> send(BackendConnection backend, EventLoop loop) {
        Promise<Void> done = loop.newPromise();
        Bootstrap b = new Bootstrap().group(loop).channel(Transport.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, TIMEOUT_MILLIS)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(ClientMessages.cancelRequest(ctx.alloc(), backend.processId(),
                                backend.secret()));
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        done.trySuccess(null);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
        ChannelFuture f = b.connect(backend.key().backend().host(), backend.key().backend().port());
        f.addListener(c -> {
            if (!c.isSuccess()) {
                done.tryFailure(c.cause());
            }
        });
        Channel ch = f.channel();
        loop.schedule(() -> {
            if (done.tryFailure(new IllegalStateException("cancel to " + backend + " timed out"))) {
                ch.close();
            }
        }, TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        return done;
    }
}

// Channel handler of a backend connection: frames its messages, runs the login, then hands traffic to the owner.
package io.pgbalancer.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.BackendMessage;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.FrameScanner;
import io.pgbalancer.protocol.Wire;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class BackendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);
    /** The server's own hard limit on a message. */
    private static final int MAX_BACKEND_MESSAGE = 1 << 30;

    private final BackendConnection connection;
    private final BackendLogin login;
    private final Map<String, String> startupParameters;
    private final Promise<BackendConnection> loggedIn;
    private final FrameScanner scanner = new FrameScanner("server", true, MAX_BACKEND_MESSAGE);
    private final BackendPool pool;

    BackendHandler(BackendConnection connection, BackendLogin login, Map<String, String> startupParameters,
                   Promise<BackendConnection> loggedIn, BackendPool pool) {
        this.connection = connection;
        this.login = login;
        this.startupParameters = startupParameters;
        this.loggedIn = loggedIn;
        this.pool = pool;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(ClientMessages.startup(ctx.alloc(), startupParameters));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        scanner.add(ctx.alloc(), (ByteBuf) msg);
        if (!loggedIn.isDone()) {
            scanner.scan((type, buf, start, length) -> onLoginMessage(ctx, type, buf, start, length));
            scanner.compact();
            if (!loggedIn.isDone()) {
                return;
            }
        }
        deliver();
    }

    private void deliver() {
        ByteBuf frames = scanner.takeCompleteFrames();
        if (frames != null) {
            dispatch(frames);
        }
    }

    private void dispatch(ByteBuf frames) {
        BackendListener owner = connection.owner();
        if (owner == null) {
            onUnownedMessages(frames);
        } else if (owner.executor().inEventLoop()) {
            owner.onBackendData(connection, frames);
        } else {
            owner.executor().execute(() -> owner.onBackendData(connection, frames));
        }
    }

    /** Traffic on an idle pooled connection: only asynchronous messages can legally arrive. */
    private void onUnownedMessages(ByteBuf frames) {
        if (connection.isBroken()) {
            frames.release(); // answers still arriving on a connection its client left dirty; it is being closed
            return;
        }
        try {
            Frames.walk(frames, (type, buf, at, length) -> {
                BackendMessage kind = BackendMessage.of(type);
                if (kind == BackendMessage.ERROR_RESPONSE) {
                    log.warn("{} reported while idle: {}", connection, ErrorFields.parse(buf, at, length));
                    connection.markBroken();
                } else if (!kind.isAsynchronous()) {
                    log.warn("{} sent unexpected message '{}' while idle; closing it", connection, (char) type);
                    connection.markBroken();
                }
                return true;
            });
        } finally {
            frames.release();
        }
        if (connection.isBroken()) {
            connection.channel().close();
        }
    }

    private boolean onLoginMessage(ChannelHandlerContext ctx, byte type, ByteBuf buf, int start, int length) {
        try {
            switch (type) {
                case 'R' -> {
                    ByteBuf reply = login.onAuthRequest(ctx.alloc(), buf, start, length);
                    if (reply != null) {
                        ctx.writeAndFlush(reply);
                    }
                }
                case 'S' -> {
                    int end = start + length;
                    int afterName = Wire.endOfCString(buf, start + 5, end, "ParameterStatus");
                    connection.report(Wire.readCString(buf, start + 5, end, "ParameterStatus"),
                            Wire.readCString(buf, afterName, end, "ParameterStatus"));
                }
                case 'K' -> {
                    connection.cancelKey(buf.getInt(start + 5), buf.getInt(start + 9));
                }
                case 'Z' -> {
                    loggedIn.trySuccess(connection);
                    return false;
                }
                case 'E' -> {
                    ErrorFields error = ErrorFields.parse(buf, start, length);
                    fail(ctx, new BackendLoginException(pool.key().describe() + ": " + error.message(), error, null));
                    return false;
                }
                default -> {
                    // NoticeResponse, NegotiateProtocolVersion: nothing to do during login
                }
            }
        } catch (Exception e) {
            fail(ctx, new BackendLoginException("login to " + pool.key().describe() + " failed: " + e.getMessage(),
                    null, e));
            return false;
        }
        return true;
    }

    private void fail(ChannelHandlerContext ctx, BackendLoginException e) {
        loggedIn.tryFailure(e);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        scanner.release();
        loggedIn.tryFailure(new BackendLoginException(pool.key().describe() + " closed the connection during login",
                null, null));
        connection.markBroken();
        pool.onClosed(connection);
        BackendListener owner = connection.owner();
        if (owner != null) {
            owner.executor().execute(() -> owner.onBackendClosed(connection, null));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: {}", connection, cause.toString());
        connection.markBroken();
        if (!loggedIn.isDone()) {
            loggedIn.tryFailure(new BackendLoginException(pool.key().describe() + ": " + cause.getMessage(), null,
                    cause));
        }
        ctx.close();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        BackendListener owner = connection.owner();
        if (owner != null) {
            boolean writable = ctx.channel().isWritable();
            owner.executor().execute(() -> owner.onBackendWritabilityChanged(connection, writable));
        }
        ctx.fireChannelWritabilityChanged();
    }
}

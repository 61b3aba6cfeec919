// Opens a TCP connection to a backend (with TLS as backend_tls says) and logs in, completing when the server first says ReadyForQuery.
package io.pgbalancer.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgbalancer.net.Transport;
import io.pgbalancer.tls.BackendTlsContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

final class BackendConnector {
    private BackendConnector() {
    }

    static Future<BackendConnection> connect(BackendPool pool, EventLoop loop, String password, long timeoutMillis) {
        PoolKey key = pool.key();
        Promise<BackendConnection> loggedIn = loop.newPromise();
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("user", key.user());
        startup.put("database", key.database());
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(Transport.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                // the clients' allocator (Netty 4.2's default is another one): one set of arenas for both sides
                .option(ChannelOption.ALLOCATOR, io.netty.buffer.PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        BackendConnection connection = new BackendConnection(pool, ch);
                        BackendLogin login = new BackendLogin(key.user(), password);
                        BackendTlsContext tls = pool.tls();
                        if (tls.requests()) {
                            ch.pipeline().addLast(new BackendTlsNegotiation(tls, key, login, loggedIn));
                        }
                        ch.pipeline().addLast(new BackendHandler(connection, login, startup, loggedIn, pool));
                    }
                });
        Transport.configure(bootstrap::option);
        ChannelFuture connected = bootstrap.connect(key.backend().host(), key.backend().port());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                loggedIn.tryFailure(new BackendLoginException("could not connect to " + key.describe() + ": "
                        + f.cause().getMessage(), null, f.cause()));
            }
        });
        var timeout = loop.schedule(() -> {
            if (loggedIn.tryFailure(new BackendLoginException("login to " + key.describe() + " timed out after "
                    + timeoutMillis + " ms", null, null))) {
                connected.channel().close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        loggedIn.addListener(f -> timeout.cancel(false));
        return loggedIn;
    }
}

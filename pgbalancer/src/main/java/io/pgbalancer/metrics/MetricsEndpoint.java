// Serves GET /metrics (Prometheus text format) over HTTP on the metrics address; everything else is 404.
package io.pgbalancer.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.pgbalancer.net.Transport;
import java.nio.charset.StandardCharsets;

public final class MetricsEndpoint implements AutoCloseable {
    private final Channel listener;

    private MetricsEndpoint(Channel listener) {
        this.listener = listener;
    }

    public static MetricsEndpoint start(String host, int port, ProxyMetrics metrics, EventLoopGroup group)
            throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192),
                                new Handler(metrics));
                    }
                });
        try {
            return new MetricsEndpoint(b.bind(host, port).sync().channel());
        } catch (Exception e) {
            throw new IllegalStateException("cannot serve metrics on " + host + ":" + port + " (metrics): "
                    + e.getMessage(), e);
        }
    }

    public int port() {
        return ((java.net.InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ProxyMetrics metrics;

        Handler(ProxyMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean found = request.method() == HttpMethod.GET && request.uri().split("\\?")[0].equals("/metrics");
            ByteBuf body = Unpooled.copiedBuffer(found ? metrics.scrape() : "not found: try GET /metrics\n",
                    StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    found ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND, body);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, found ? "text/plain; version=0.0.4; charset=utf-8"
                    : "text/plain; charset=utf-8");
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}

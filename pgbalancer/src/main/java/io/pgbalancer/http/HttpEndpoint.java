// Serves the operator's HTTP endpoint: GET /metrics (Prometheus text), /health (liveness) and /ready (readiness).
package io.pgbalancer.http;

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
import io.pgbalancer.metrics.ProxyMetrics;
import io.pgbalancer.net.Transport;
import java.nio.charset.StandardCharsets;

/**
 * One short-lived connection per request (the response closes it). / is the status page (it polls /status.json).
 * /health and /ready answer JSON with a reason,
 * 200 when fine and 503 otherwise, as Kubernetes probes expect; anything else is 404 naming the paths there are.
 */
public final class HttpEndpoint implements AutoCloseable {
    private static final String JSON = "application/json; charset=utf-8";
    /** The status page, one self-contained HTML file. */
    private static final String PAGE = page();
    private final Channel listener;

    private HttpEndpoint(Channel listener) {
        this.listener = listener;
    }

    public static HttpEndpoint start(String host, int port, ProxyMetrics metrics, Liveness liveness,
                                     Readiness readiness, StatusReport status, EventLoopGroup group)
            throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192),
                                new Handler(metrics, liveness, readiness, status));
                    }
                });
        try {
            return new HttpEndpoint(b.bind(host, port).sync().channel());
        } catch (Exception e) {
            throw new IllegalStateException("cannot serve HTTP on " + host + ":" + port + " (http): "
                    + e.getMessage(), e);
        }
    }

    private static String page() {
        try (java.io.InputStream in = HttpEndpoint.class.getResourceAsStream("status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
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
        private final Liveness liveness;
        private final Readiness readiness;
        private final StatusReport status;

        Handler(ProxyMetrics metrics, Liveness liveness, Readiness readiness, StatusReport status) {
            this.metrics = metrics;
            this.liveness = liveness;
            this.readiness = readiness;
            this.status = status;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri().split("\\?")[0];
            if (request.method() != HttpMethod.GET) {
                respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, JSON, Json.object("error", "only GET is served"));
                return;
            }
            switch (path) {
                case "/metrics" -> respond(ctx, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.scrape());
                case "/health" -> liveness.check(ctx.executor()).addListener(f -> {
                    Probe p = (Probe) f.getNow();
                    respond(ctx, p.ok() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, JSON,
                            p.json());
                });
                case "/ready" -> {
                    Probe p = readiness.check();
                    respond(ctx, p.ok() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, JSON,
                            p.json());
                }
                case "/", "/status" -> respond(ctx, HttpResponseStatus.OK, "text/html; charset=utf-8", PAGE);
                case "/status.json" -> respond(ctx, HttpResponseStatus.OK, JSON, status.json());
                default -> respond(ctx, HttpResponseStatus.NOT_FOUND, JSON, Json.object("error", "not found: " + path
                        + " (try /, /status.json, /metrics, /health or /ready)"));
            }
        }

        private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String text) {
            ByteBuf body = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            // said, not only done: a client that pools connections must not send its next request on this one
            response.headers().set(HttpHeaderNames.CONNECTION, io.netty.handler.codec.http.HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}

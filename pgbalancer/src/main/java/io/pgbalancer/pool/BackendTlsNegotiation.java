// Asks a server for TLS (SSLRequest) before the startup packet and puts TLS in place, as backend_tls says.
package io.pgbalancer.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.auth.TlsServerEndPoint;
import io.pgbalancer.tls.BackendTlsContext;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Sits first in a new backend channel and holds back channelActive (which sends the startup packet) until the server
 * has answered: S puts an SslHandler in its place and waits for the handshake; N goes on in plaintext when the mode
 * allows it. Bytes after the answer and before the handshake are refused: a man in the middle could inject them
 * (CVE-2021-23222).
 */
final class BackendTlsNegotiation extends ChannelInboundHandlerAdapter {
    private final BackendTlsContext tls;
    private final PoolKey key;
    private final BackendLogin login;
    private final Promise<BackendConnection> loggedIn;

    BackendTlsNegotiation(BackendTlsContext tls, PoolKey key, BackendLogin login, Promise<BackendConnection> loggedIn) {
        this.tls = tls;
        this.key = key;
        this.login = login;
        this.loggedIn = loggedIn;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(ClientMessages.sslRequest(ctx.alloc()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (!in.isReadable()) {
            in.release();
            return;
        }
        byte answer = in.readByte();
        boolean more = in.isReadable();
        in.release();
        if (more) {
            fail(ctx, "sent unencrypted data right after answering the TLS request (refused: a man in the middle"
                    + " could inject it)");
        } else if (answer == 'S') {
            startTls(ctx);
        } else if (answer == 'N') {
            if (!tls.plaintextAllowed()) {
                fail(ctx, "does not accept TLS connections (backend_tls.mode " + tls.mode().yamlName()
                        + " needs ssl = on on the server; mode prefer would fall back to plaintext)");
                return;
            }
            ctx.pipeline().remove(this);
            ctx.pipeline().fireChannelActive();
        } else {
            fail(ctx, "answered the TLS request with '" + (char) answer + "' (expected S or N)");
        }
    }

    private void startTls(ChannelHandlerContext ctx) {
        SslHandler ssl = tls.newHandler(ctx.alloc(), key.backend().host(), key.backend().port());
        ctx.pipeline().replace(this, "tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                loggedIn.tryFailure(new BackendLoginException("TLS handshake with " + key.describe() + " failed"
                        + " (backend_tls.mode " + tls.mode().yamlName() + "): " + io.pgbalancer.net.RootCause.message(cause), null, cause));
                ssl.engine().closeOutbound();
                ctx.channel().close();
                return;
            }
            login.channelBinding(endPoint(ssl));
            var next = ctx.pipeline().context(ssl);
            if (next != null) {
                next.fireChannelActive();
            }
        });
    }

    /** The server certificate's binding data for SCRAM-SHA-256-PLUS, or null when it has none. */
    private static byte[] endPoint(SslHandler ssl) {
        try {
            var certificates = ssl.engine().getSession().getPeerCertificates();
            return certificates.length > 0 && certificates[0] instanceof X509Certificate leaf
                    ? TlsServerEndPoint.of(leaf) : null;
        } catch (SSLPeerUnverifiedException | IllegalArgumentException e) {
            return null;
        }
    }


    private void fail(ChannelHandlerContext ctx, String what) {
        loggedIn.tryFailure(new BackendLoginException(key.describe() + " " + what, null, null));
        ctx.close();
    }
}

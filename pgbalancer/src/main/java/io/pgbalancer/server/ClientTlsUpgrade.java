// Switches a client connection to TLS: after SSLRequest ('S' sent) or at once for direct TLS (sslnegotiation=direct).
package io.pgbalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.pgbalancer.tls.ClientTls;
import io.pgbalancer.tls.TlsMaterial;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class ClientTlsUpgrade {
    private static final Logger log = LoggerFactory.getLogger(ClientTlsUpgrade.class);
    /** The first byte of a TLS handshake record; a plaintext startup packet starts with 0 (its length is < 16 MB). */
    private static final byte TLS_HANDSHAKE_RECORD = 0x16;

    private ClientTlsUpgrade() {
    }

    /** Whether the first bytes of a connection are a TLS ClientHello rather than a startup packet. */
    static boolean isDirectTls(ByteBuf firstBytes) {
        return firstBytes.isReadable() && firstBytes.getByte(firstBytes.readerIndex()) == TLS_HANDSHAKE_RECORD;
    }

    /**
     * Puts TLS in front of the connection's handlers. Decrypted bytes reach them from now on. A failed handshake
     * closes the connection (logged); a direct TLS client must have negotiated ALPN "postgresql", as PostgreSQL
     * requires, so a TLS connection meant for another protocol is not taken for a database login.
     */
    static void start(ChannelHandlerContext ctx, TlsMaterial material, boolean direct) {
        SslHandler ssl = material.context().newHandler(ctx.alloc());
        ctx.pipeline().addFirst("tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                log.info("client {}: TLS handshake failed: {}", ctx.channel().remoteAddress(),
                        io.pgbalancer.net.RootCause.message(f.cause()));
                ctx.close();
            } else if (direct && !ClientTls.ALPN.equals(ssl.applicationProtocol())) {
                log.info("client {}: direct TLS without ALPN \"{}\" refused", ctx.channel().remoteAddress(),
                        ClientTls.ALPN);
                ctx.close();
            }
        });
    }

    /** Whether an exception is the TLS layer's (a failed handshake or a bad record), already logged by the listener. */
    static boolean isTlsFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

}

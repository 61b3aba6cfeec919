// Channel handler of a client connection: startup packet (and TLS), authentication, then frames to its session.
package io.pgbalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgbalancer.auth.ClientAuthenticator;
import io.pgbalancer.protocol.FrameScanner;
import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.StartupPacket;
import io.pgbalancer.protocol.auth.AuthenticationFailedException;
import io.pgbalancer.admin.AdminSession;
import io.pgbalancer.config.Admin;
import io.pgbalancer.session.ClientSession;
import io.pgbalancer.session.SessionSettings;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class ClientHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);

    private enum State { STARTUP, AUTH, READY, CLOSED }

    private final ProxyContext proxy;
    private final FrameScanner scanner;
    private State state = State.STARTUP;
    private StartupPacket startup;
    private ClientAuthenticator authenticator;
    private FrontendSession session;
    /** This connection counts in limits.max_client_connections (from accept until closed). */
    private boolean counted;
    /** The user whose auth.users[].max_connections this connection counts in, once logged in. */
    private String countedUser;
    private io.netty.util.concurrent.ScheduledFuture<?> authTimer;
    /** The certificate this connection uses TLS with, or null while it is plaintext. */
    private io.pgbalancer.tls.TlsMaterial tls;
    /** Whether any byte has arrived yet (direct TLS is recognised by the very first one). */
    private boolean received;

    ClientHandler(ProxyContext proxy) {
        this.proxy = proxy;
        this.scanner = new FrameScanner("client", false, proxy.config().limits().maxMessageSize());
    }

    /**
     * Counted from accept, so connections that never log in (slowloris) use up the limit too; and closed if the login
     * has not finished within limits.auth_timeout.
     */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        counted = true;
        proxy.limits().accepted();
        java.time.Duration timeout = proxy.config().limits().authTimeout();
        authTimer = ctx.executor().schedule(() -> {
            if (state == State.STARTUP || state == State.AUTH) {
                log.info("client {} did not log in within limits.auth_timeout", ctx.channel().remoteAddress());
                fatal(ctx, "53300", "pgbalancer: login not finished within limits.auth_timeout ("
                        + timeout.toMillis() + " ms)");
            }
        }, timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSED) {
            ((ByteBuf) msg).release();
            return;
        }
        if (!received) {
            received = true;
            if (ClientTlsUpgrade.isDirectTls((ByteBuf) msg)) {
                startDirectTls(ctx, (ByteBuf) msg);
                return;
            }
        }
        scanner.add(ctx.alloc(), (ByteBuf) msg);
        try {
            if (state != State.READY) {
                scanner.scan((type, buf, start, length) -> onHandshakeFrame(ctx, type, buf, start, length));
                scanner.compact();
                if (state != State.READY) {
                    return;
                }
            }
            deliver();
        } catch (ProtocolException e) {
            fatal(ctx, e.sqlState(), e.getMessage());
        }
    }

    /** A TLS ClientHello as the first bytes (sslnegotiation=direct): TLS at once, with ALPN "postgresql". */
    private void startDirectTls(ChannelHandlerContext ctx, ByteBuf hello) {
        tls = proxy.clientTls().current();
        if (tls == null) {
            hello.release();
            log.info("client {} started TLS directly, but tls.mode is disable", ctx.channel().remoteAddress());
            state = State.CLOSED;
            ctx.close(); // a TLS client cannot read a plaintext error
            return;
        }
        ClientTlsUpgrade.start(ctx, tls, true);
        ctx.pipeline().fireChannelRead(hello); // from the head, through TLS now
    }

    private void deliver() {
        ByteBuf frames = scanner.takeCompleteFrames();
        if (frames != null) {
            session.onClientFrames(frames);
        }
    }

    private boolean onHandshakeFrame(ChannelHandlerContext ctx, byte type, ByteBuf buf, int start, int length) {
        if (state == State.STARTUP) {
            return onStartupPacket(ctx, StartupPacket.parse(buf, start, length));
        }
        if (type != 'p') {
            throw new ProtocolException("expected a password message ('p') during authentication, got '"
                    + (char) type + "'");
        }
        try {
            ClientAuthenticator.Step step = authenticator.onPasswordMessage(ctx.alloc(), buf, start, length);
            ctx.writeAndFlush(step.reply());
            if (step.done()) {
                startSession(ctx);
                return false;
            }
        } catch (AuthenticationFailedException e) {
            log.info("client {} failed authentication as {}: {}", ctx.channel().remoteAddress(), user(),
                    e.getMessage());
            fatal(ctx, "28P01", authenticator.failed().getMessage());
            return false;
        }
        return true;
    }

    private boolean onStartupPacket(ChannelHandlerContext ctx, StartupPacket packet) {
        switch (packet.code()) {
            case StartupPacket.SSL_REQUEST -> {
                return onSslRequest(ctx);
            }
            case StartupPacket.GSSENC_REQUEST -> {
                ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
                return true;
            }
            case StartupPacket.CANCEL_REQUEST -> {
                proxy.cancels().cancel(packet.cancelProcessId(), packet.cancelSecret());
                state = State.CLOSED;
                ctx.close();
                return false;
            }
            default -> {
            }
        }
        if (packet.minorVersion() > 0 || !packet.unsupportedOptions().isEmpty()) {
            ctx.write(ServerMessages.negotiateProtocolVersion(ctx.alloc(), 0, packet.unsupportedOptions()));
        }
        startup = packet;
        String user = packet.parameters().get("user");
        if (user == null || user.isEmpty()) {
            throw new ProtocolException("28000", "no PostgreSQL user name specified in startup packet");
        }
        if (packet.parameters().containsKey("replication")
                && !"false".equalsIgnoreCase(packet.parameters().get("replication"))) {
            throw new ProtocolException("08P01", "replication connections are not supported through pgbalancer");
        }
        int max = proxy.config().limits().maxClientConnections();
        if (proxy.limits().open() > max) {
            throw new ProtocolException("53300", "sorry, too many clients already (limits.max_client_connections "
                    + max + ", counted from accept: " + proxy.limits().open() + " connections are open)");
        }
        if (tls == null && proxy.clientTls().mode() == io.pgbalancer.config.TlsMode.REQUIRE) {
            log.info("client {} as {} refused: no TLS (tls.mode require)", ctx.channel().remoteAddress(), user);
            throw new ProtocolException("28000", "pgbalancer requires TLS (tls.mode require): connect with"
                    + " sslmode=require or stronger");
        }
        scanner.startTyped();
        state = State.AUTH;
        authenticator = new ClientAuthenticator(proxy.config().auth().method(), user, proxy.users(),
                tls == null ? null : tls.endPoint());
        try {
            ClientAuthenticator.Step step = authenticator.begin(ctx.alloc());
            ctx.writeAndFlush(step.reply());
            if (step.done()) {
                startSession(ctx);
                return false;
            }
        } catch (AuthenticationFailedException e) {
            fatal(ctx, "28P01", authenticator.failed().getMessage());
            return false;
        }
        return true;
    }

    /**
     * SSLRequest: 'S' and TLS when tls is enabled, else 'N'. Bytes that came after the request, before the handshake,
     * were not encrypted yet a server would read them as if they were (CVE-2021-23214): refused.
     */
    private boolean onSslRequest(ChannelHandlerContext ctx) {
        if (tls != null) {
            throw new ProtocolException("08P01", "SSLRequest on a connection that already uses TLS");
        }
        io.pgbalancer.tls.TlsMaterial material = proxy.clientTls().current();
        if (material == null) {
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
            return true;
        }
        if (scanner.hasBufferedBytes()) {
            throw new ProtocolException("08P01", "received unencrypted data after SSL request");
        }
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S')); // passes no TLS: the handler is added after it
        tls = material;
        ClientTlsUpgrade.start(ctx, material, false);
        return false;
    }

    private String user() {
        return startup == null ? "?" : startup.parameters().get("user");
    }

    private void startSession(ChannelHandlerContext ctx) {
        // interned: thousands of sessions of one user and database share the two strings
        String user = user().intern();
        String database = startup.parameters().getOrDefault("database", user);
        database = database.isEmpty() ? user : database.intern();
        if (Admin.DATABASE.equals(database) && !proxy.config().admin().isAdmin(user)) {
            log.info("client {} as {} refused the admin console", ctx.channel().remoteAddress(), user);
            fatal(ctx, "42501", "permission denied: user \"" + user + "\" may not use the admin console"
                    + " (admin.users)");
            return;
        }
        Integer perUser = userLimit(user);
        if (!proxy.limits().login(user, perUser)) {
            log.info("client {} as {} refused: auth.users max_connections {} reached", ctx.channel().remoteAddress(),
                    user, perUser);
            fatal(ctx, "53300", "too many connections for user \"" + user + "\" (auth.users max_connections "
                    + perUser + ")");
            return;
        }
        countedUser = user;
        authTimer.cancel(false);
        authTimer = null;
        state = State.READY;
        if (Admin.DATABASE.equals(database)) {
            session = new AdminSession(ctx.channel(), proxy.sessionServices(), user,
                    startup.parameters().getOrDefault("application_name", ""), proxy.control());
        } else {
            SessionSettings settings = SessionSettings.fromStartup(startup.parameters());
            session = new ClientSession(ctx.channel(), proxy.sessionServices(), user, database, settings);
        }
        // what the login needed is not kept for the session's life (memory per idle client)
        startup = null;
        authenticator = null;
        session.start();
    }

    private void fatal(ChannelHandlerContext ctx, String sqlState, String message) {
        state = State.CLOSED;
        scanner.release();
        if (session != null) {
            session.terminate(sqlState, message);
        } else {
            ctx.writeAndFlush(ServerMessages.error(ctx.alloc(), "FATAL", sqlState, message))
                    .addListener(f -> ctx.close());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (session != null) {
            session.onClientWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** The user's own connection limit (auth.users[].max_connections), or null. */
    private Integer userLimit(String user) {
        for (io.pgbalancer.config.User u : proxy.config().auth().users()) {
            if (u.name().equals(user)) {
                return u.maxConnections();
            }
        }
        return null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (counted) {
            counted = false;
            proxy.limits().closed();
        }
        if (countedUser != null) {
            proxy.limits().logout(countedUser);
            countedUser = null;
        }
        if (authTimer != null) {
            authTimer.cancel(false);
        }
        state = State.CLOSED;
        scanner.release();
        if (session != null) {
            session.onClientClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof ProtocolException p) {
            fatal(ctx, p.sqlState(), p.getMessage());
            return;
        }
        if (ClientTlsUpgrade.isTlsFailure(cause)) {
            state = State.CLOSED;
            ctx.close(); // the handshake listener logged it; nothing readable can be sent
            return;
        }
        if (!(cause instanceof IOException)) {
            log.warn("client {}: {}", ctx.channel().remoteAddress(), cause.toString(), cause);
        }
        ctx.close();
    }
}

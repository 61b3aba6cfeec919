// purpose: the real ClientHandler on EmbeddedChannels with fake pooled servers, for fuzz and CVE-regression tests
package io.pgbalancer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.fuzz.TrackingAllocator;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.session.FakeServer;
import io.pgbalancer.session.TestWire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One proxy (ProxyContext) for an auth method, with users {@code app} and {@code admin} (password "secret", admin the
 * only admin.users entry) and one primary. Every backend pool gets a {@link FakeServer} as its idle connection as soon
 * as it exists, and again whenever it has none idle, so a session never opens a real connection. Buffers come from
 * {@code alloc}, which the fuzz harness checks after every input.
 */
final class HandlerRig implements AutoCloseable {
    static final String PASSWORD = "secret";

    final ProxyContext proxy;
    final TrackingAllocator alloc;
    final String method;
    private final List<FakeServer> servers = new ArrayList<>();
    private final DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    private long forwardedByClosed;

    static final String USERS = "[{name: app, password: secret}, {name: admin, password: secret}]";
    static final String LIMITS = "{max_message_size: 8kB}";

    HandlerRig(String method, TrackingAllocator alloc) throws Exception {
        this(method, alloc, USERS, LIMITS);
    }

    /** {@code users}: the auth.users list, in YAML flow style; {@code limits}: the limits section. */
    HandlerRig(String method, TrackingAllocator alloc, String users, String limits) throws Exception {
        this.method = method;
        this.alloc = alloc;
        PgBalancerConfig config = ConfigLoader.parse("""
                auth:
                  method: %s
                  users: %s
                admin: {users: [admin]}
                backends:
                  - {host: 127.0.0.1, port: 1, role: primary}
                routing: {consistency: eventual}
                pool: {idle_timeout: 0s, max_lifetime: 0s}
                limits: %s
                """.formatted(method, users, limits), Map.of(), "test");
        this.proxy = new ProxyContext(config, group);
        proxy.pools().onNewPool(this::addServer);
    }

    private void addServer(BackendPool pool) {
        try {
            servers.add(new FakeServer(pool, alloc));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client connection: the real ClientHandler, active, on the rig's allocator. */
    EmbeddedChannel connect() {
        EmbeddedChannel ch = new EmbeddedChannel(new ClientHandler(proxy));
        ch.config().setAllocator(alloc);
        return ch;
    }

    /** Feeds {@code bytes} to the client channel in the chunks {@code cuts} makes, answering servers in between. */
    void feed(EmbeddedChannel ch, byte[] bytes, int[] cuts, SplittableRandom r, double errorRate) {
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : bytes.length;
            if (to > from && ch.isOpen()) {
                ByteBuf chunk = alloc.heapBuffer(to - from).writeBytes(bytes, from, to - from);
                ch.writeInbound(chunk);
                pump(ch, r, errorRate);
            }
            from = Math.max(from, to);
        }
    }

    void feed(EmbeddedChannel ch, byte[] bytes) {
        feed(ch, bytes, new int[0], new SplittableRandom(0), 0);
    }

    /** Lets the fake servers answer until nothing moves any more (a bounded number of rounds: else a livelock). */
    void pump(EmbeddedChannel ch, SplittableRandom r, double errorRate) {
        for (int round = 0; round < 1000; round++) {
            ch.runPendingTasks();
            boolean moved = false;
            for (FakeServer s : List.copyOf(servers)) {
                moved |= s.answer(r, errorRate);
                s.channel.checkException(); // an exception thrown into a server channel's pipeline
            }
            ch.runPendingTasks();
            refill();
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("the proxy and its servers did not settle within 1000 rounds (a livelock)");
    }

    /** Drops closed servers, and gives every pool without an idle connection a fresh fake one. */
    void refill() {
        servers.removeIf(s -> {
            if (s.channel.isOpen()) {
                return false;
            }
            forwardedByClosed += s.bytesReceived();
            s.channel.finishAndReleaseAll();
            return true;
        });
        for (BackendPool p : proxy.pools().all()) {
            if (p.idleCount() == 0) {
                addServer(p);
            }
        }
    }

    /** Everything the servers received so far, server after server. */
    byte[] forwardedBytes() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (FakeServer s : servers) {
            out.writeBytes(s.received());
        }
        return out.toByteArray();
    }

    /** Bytes the proxy has sent to any server since the rig was made (logins included). */
    long forwarded() {
        long n = forwardedByClosed;
        for (FakeServer s : servers) {
            n += s.bytesReceived();
        }
        return n;
    }

    /** After every client is gone: nothing counted, no session, no real connection opened, no waiter. */
    void assertAtRest() throws Exception {
        for (io.pgbalancer.routing.BackendNode n : proxy.sessionServices().router().nodes()) {
            n.unban(); // a server that died under its client is banned: the next input starts afresh
            n.unbanByAdmin();
        }
        assertEquals(0, proxy.limits().open(), "client connections still counted");
        assertEquals(0, proxy.sessions().count(), () -> "sessions still registered: " + proxy.sessions().snapshot());
        java.lang.reflect.Field f = ConnectionLimits.class.getDeclaredField("loggedIn");
        f.setAccessible(true);
        @SuppressWarnings("unchecked")
        ConcurrentHashMap<String, AtomicInteger> loggedIn = (ConcurrentHashMap<String, AtomicInteger>) f.get(proxy.limits());
        loggedIn.forEach((user, n) -> assertEquals(0, n.get(), "logins still counted for " + user));
        for (BackendPool p : proxy.pools().all()) {
            assertEquals(0, p.total(), "a real server connection was opened (the rig must prevent it): " + p.key());
            assertEquals(0, p.waiting(), "a checkout still waits in " + p.key());
        }
    }

    @Override
    public void close() {
        for (FakeServer s : servers) {
            s.channel.finishAndReleaseAll();
        }
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    // ---- an honest client

    /**
     * Logs in as {@code user} to {@code database} (null: none sent) with the right password for the rig's method,
     * answering each request; returns everything the client got (through the welcome, or the refusal).
     */
    List<Reply> login(EmbeddedChannel ch, String user, String database) {
        List<Reply> got = new ArrayList<>();
        feed(ch, io.pgbalancer.fuzz.Frontend.startup(io.pgbalancer.fuzz.Frontend.PROTOCOL_3_0, "user", user,
                "database", database).bytes());
        io.pgbalancer.fuzz.ScramLogin scram = new io.pgbalancer.fuzz.ScramLogin(PASSWORD, "rigNonce");
        for (int step = 0; step < 4 && ch.isOpen(); step++) {
            List<Reply> now = received(ch);
            got.addAll(now);
            Reply request = now.stream().filter(m -> m.type() == 'R').reduce((a, b) -> b).orElse(null);
            if (request == null || authCode(request) == 0) {
                break;
            }
            io.pgbalancer.fuzz.Msg answer = switch (authCode(request)) {
                case 5 -> io.pgbalancer.fuzz.Frontend.password(io.pgbalancer.protocol.auth.Md5Password.encode(user,
                        PASSWORD, java.util.Arrays.copyOfRange(request.body(), 4, 8)));
                case 10 -> io.pgbalancer.fuzz.Frontend.saslInitial("SCRAM-SHA-256", scram.clientFirst());
                case 11 -> io.pgbalancer.fuzz.Frontend.saslResponse(scram.clientFinal(request.text(4)));
                default -> throw new AssertionError("unexpected authentication request " + authCode(request));
            };
            feed(ch, answer.bytes());
        }
        got.addAll(received(ch));
        return got;
    }

    // ---- what the client got

    /** A message the proxy sent to the client. */
    record Reply(char type, byte[] body) {
        int int32(int at) {
            return java.nio.ByteBuffer.wrap(body).getInt(at);
        }

        String text(int from) {
            return new String(body, from, body.length - from, StandardCharsets.UTF_8);
        }

        /** The fields of an ErrorResponse or NoticeResponse, by code. */
        Map<Character, String> fields() {
            Map<Character, String> out = new java.util.LinkedHashMap<>();
            int at = 0;
            while (at < body.length && body[at] != 0) {
                char code = (char) body[at++];
                int nul = at;
                while (nul < body.length && body[nul] != 0) {
                    nul++;
                }
                assertTrue(nul < body.length, "an error field without its terminator");
                out.put(code, new String(body, at, nul - at, StandardCharsets.UTF_8));
                at = nul + 1;
            }
            assertEquals(body.length - 1, at, "an ErrorResponse must end with one terminator right after its fields");
            return out;
        }

        ErrorFields error() {
            ByteBuf b = Unpooled.buffer().writeByte(type).writeInt(body.length + 4).writeBytes(body);
            try {
                return ErrorFields.parse(b, 0, b.readableBytes());
            } finally {
                b.release();
            }
        }
    }

    /** Everything the client channel has written since the last call, split into checked frames. */
    static List<Reply> received(EmbeddedChannel ch) {
        return split(TestWire.drain(ch));
    }

    /** Splits backend-format bytes into messages; a bad frame (the proxy's own bug) is an AssertionError. */
    static List<Reply> split(byte[] bytes) {
        List<Reply> out = new ArrayList<>();
        int at = 0;
        while (at < bytes.length) {
            if (bytes[at] == 'N' && (bytes.length - at < 5 || intAt(bytes, at + 1) < 4
                    || intAt(bytes, at + 1) > bytes.length - at - 1)) {
                out.add(new Reply('N', null)); // the one-byte answer to SSLRequest / GSSENCRequest
                at++;
                continue;
            }
            assertTrue(bytes.length - at >= 5, "a truncated frame header sent to the client");
            int len = ((bytes[at + 1] & 0xFF) << 24) | ((bytes[at + 2] & 0xFF) << 16) | ((bytes[at + 3] & 0xFF) << 8)
                    | (bytes[at + 4] & 0xFF);
            assertTrue(len >= 4 && len <= bytes.length - at - 1,
                    "frame '" + (char) bytes[at] + "' with length " + len + " sent to the client");
            out.add(new Reply((char) bytes[at], java.util.Arrays.copyOfRange(bytes, at + 5, at + 1 + len)));
            at += 1 + len;
        }
        return out;
    }

    /**
     * Every ErrorResponse carries severity (S and V), a five-character SQLSTATE (C) and a message (M); a FATAL one is
     * the last thing the client gets. Returns the FATAL error's SQLSTATE, or null.
     */
    static String checkErrors(List<Reply> messages) {
        String fatal = null;
        for (int i = 0; i < messages.size(); i++) {
            Reply m = messages.get(i);
            if (m.type() != 'E') {
                continue;
            }
            Map<Character, String> f = m.fields();
            assertTrue(f.containsKey('S') && f.containsKey('V') && f.containsKey('M'), "ErrorResponse fields " + f);
            if (FakeServer.NO_SQLSTATE.equals(f.get('M')) && !"FATAL".equals(f.get('V'))) {
                continue; // a server's own error, relayed untouched: not one pgbalancer made
            }
            String state = f.get('C');
            assertTrue(state != null && state.length() == 5, "ErrorResponse without a valid SQLSTATE: " + f);
            if ("FATAL".equals(f.get('V'))) {
                assertEquals(messages.size() - 1, i, "messages after a FATAL error: " + types(messages));
                fatal = state;
            }
        }
        return fatal;
    }

    private static int intAt(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    static String types(List<Reply> messages) {
        StringBuilder s = new StringBuilder();
        for (Reply m : messages) {
            s.append(m.type());
        }
        return s.toString();
    }

    /** The code of an Authentication message ('R'), or -1. */
    static int authCode(Reply m) {
        return m.type() == 'R' && m.body().length >= 4 ? m.int32(0) : -1;
    }
}

// purpose: ClientHandler's handshake on an EmbeddedChannel: SSL refusal, length limits, startup errors and SCRAM for unknown users
package io.pgbalancer.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.StartupPacket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClientHandlerTest {
    private static final String BACKENDS = "backends:\n  - {host: 127.0.0.1, port: 1, role: primary}\n";

    private final List<DefaultEventLoopGroup> groups = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterEach
    void cleanUp() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        groups.forEach(DefaultEventLoopGroup::shutdownGracefully);
    }

    private ProxyContext context(String method) throws Exception {
        String yaml = "auth:\n  method: " + method + "\n  users: [{name: app, password: secret}]\n" + BACKENDS
                + "limits: {max_message_size: 1kB}\n";
        PgBalancerConfig config = ConfigLoader.parse(yaml, Map.of(), "test");
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
        groups.add(group);
        return new ProxyContext(config, group);
    }

    private EmbeddedChannel channel(ProxyContext proxy) {
        EmbeddedChannel ch = new EmbeddedChannel(new ClientHandler(proxy));
        channels.add(ch);
        return ch;
    }

    private EmbeddedChannel channel(String method) throws Exception {
        return channel(context(method));
    }

    // ---- wire helpers ----

    private static ByteBuf startup(int code, Map<String, String> params) {
        ByteBuf b = Unpooled.buffer();
        b.writeInt(0);
        b.writeInt(code);
        params.forEach((k, v) -> {
            cstr(b, k);
            cstr(b, v);
        });
        b.writeByte(0);
        b.setInt(0, b.writerIndex());
        return b;
    }

    private static ByteBuf startup(Map<String, String> params) {
        return startup(StartupPacket.PROTOCOL_3_0, params);
    }

    private static void cstr(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    private static ByteBuf saslInitial(String mechanism, String data) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('p').writeInt(0);
        cstr(b, mechanism);
        byte[] d = data.getBytes(StandardCharsets.UTF_8);
        b.writeInt(d.length).writeBytes(d);
        b.setInt(1, b.writerIndex() - 1);
        return b;
    }

    private static ByteBuf saslResponse(String data) {
        ByteBuf b = Unpooled.buffer();
        byte[] d = data.getBytes(StandardCharsets.UTF_8);
        b.writeByte('p').writeInt(4 + d.length).writeBytes(d);
        return b;
    }

    /** Everything written to the client so far, as one byte array; releases the buffers. */
    private static byte[] written(EmbeddedChannel ch) {
        return io.pgbalancer.session.TestWire.drain(ch);
    }

    private static HandlerRig.Reply single(byte[] bytes) {
        List<HandlerRig.Reply> m = HandlerRig.split(bytes);
        assertEquals(1, m.size(), m.toString());
        return m.get(0);
    }

    private static void assertFatal(EmbeddedChannel ch, String sqlState) {
        ErrorFields e = single(written(ch)).error();
        assertEquals("FATAL", e.severity(), e.toString());
        assertEquals(sqlState, e.sqlState(), e.toString());
        assertFalse(ch.isOpen(), "closed after the error");
    }

    private static Map<String, String> user(String name) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", name);
        p.put("database", "db");
        return p;
    }

    // ---- tests ----

    @Test
    void sslRequestIsRefusedWithN() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(Unpooled.buffer().writeInt(8).writeInt(StartupPacket.SSL_REQUEST));
        assertArrayEquals(new byte[] {'N'}, written(ch));
        assertTrue(ch.isOpen());
        // the client may go on in plain text
        ch.writeInbound(startup(user("app")));
        HandlerRig.Reply sasl = single(written(ch));
        assertEquals('R', sasl.type());
        assertEquals(10, sasl.int32(0));
    }

    @Test
    void gssEncRequestIsRefusedWithN() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(Unpooled.buffer().writeInt(8).writeInt(StartupPacket.GSSENC_REQUEST));
        assertArrayEquals(new byte[] {'N'}, written(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void oversizedMessageAfterStartupIsAProtocolViolation() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(startup(user("app")));
        assertEquals('R', single(written(ch)).type());
        // only the header: the proxy must not wait for (or buffer) a body it will refuse
        ch.writeInbound(Unpooled.buffer().writeByte('p').writeInt(5000));
        byte[] out = written(ch);
        ErrorFields e = single(out).error();
        assertEquals("08P01", e.sqlState(), e.toString());
        assertEquals("FATAL", e.severity());
        assertTrue(e.message().contains("5000") && e.message().contains("1024"), e.message());
        assertFalse(ch.isOpen());
    }

    @Test
    void oversizedStartupPacketIsAProtocolViolation() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(Unpooled.buffer().writeInt(10_001).writeInt(StartupPacket.PROTOCOL_3_0));
        assertFatal(ch, "08P01");
    }

    @Test
    void malformedStartupPacketIsAProtocolViolation() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(Unpooled.buffer().writeInt(12).writeInt(2 << 16).writeInt(0));
        assertFatal(ch, "08P01");
    }

    @Test
    void wrongMessageTypeDuringAuthenticationIsAProtocolViolation() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(startup(user("app")));
        written(ch);
        ByteBuf q = Unpooled.buffer().writeByte('Q').writeInt(13);
        cstr(q, "SELECT 1");
        ch.writeInbound(q);
        assertFatal(ch, "08P01");
    }

    @Test
    void startupWithoutUserIsRejected() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(startup(Map.of("database", "db")));
        assertFatal(ch, "28000");
    }

    @Test
    void replicationIsRejected() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        Map<String, String> p = user("app");
        p.put("replication", "database");
        ch.writeInbound(startup(p));
        assertFatal(ch, "08P01");
    }

    @Test
    void cancelRequestClosesWithoutAnswer() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(Unpooled.buffer().writeInt(16).writeInt(StartupPacket.CANCEL_REQUEST).writeInt(1)
                .writeInt(2));
        assertArrayEquals(new byte[0], written(ch));
        assertFalse(ch.isOpen());
    }

    @Test
    void newerMinorVersionAndExtensionsAreNegotiatedDown() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        Map<String, String> p = user("app");
        p.put("_pq_.compression", "on");
        ch.writeInbound(startup(StartupPacket.PROTOCOL_3_2, p));
        List<HandlerRig.Reply> out = HandlerRig.split(written(ch));
        assertEquals(2, out.size(), out.toString());
        HandlerRig.Reply v = out.get(0);
        assertEquals('v', v.type());
        assertEquals(0, v.int32(0), "newest minor version supported");
        assertEquals(1, v.int32(4), "number of unsupported options");
        assertEquals("_pq_.compression\0", v.text(8));
        assertEquals('R', out.get(1).type());
        assertTrue(ch.isOpen());
    }

    /** Runs a syntactically valid SCRAM exchange with a wrong proof; returns (SASL request, server-first, error). */
    private List<HandlerRig.Reply> bogusScram(EmbeddedChannel ch, String user) {
        ch.writeInbound(startup(user(user)));
        HandlerRig.Reply sasl = single(written(ch));
        ch.writeInbound(saslInitial("SCRAM-SHA-256", "n,,n=,r=clientNonce123"));
        HandlerRig.Reply cont = single(written(ch));
        assertEquals('R', cont.type());
        assertEquals(11, cont.int32(0), "AuthenticationSASLContinue");
        String serverFirst = cont.text(4);
        assertTrue(serverFirst.startsWith("r=clientNonce123"), serverFirst);
        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        String proof = Base64.getEncoder().encodeToString(new byte[32]);
        ch.writeInbound(saslResponse("c=biws,r=" + nonce + ",p=" + proof));
        HandlerRig.Reply error = single(written(ch));
        assertFalse(ch.isOpen());
        return List.of(sasl, cont, error);
    }

    @Test
    void unknownUserGetsTheSameScramExchangeAsAKnownOne() throws Exception {
        List<HandlerRig.Reply> known = bogusScram(channel("scram-sha-256"), "app");
        List<HandlerRig.Reply> unknown = bogusScram(channel("scram-sha-256"), "ghost");

        assertArrayEquals(known.get(0).body(), unknown.get(0).body(), "same AuthenticationSASL");
        assertEquals(10, unknown.get(0).int32(0));
        assertEquals("SCRAM-SHA-256\0\0", unknown.get(0).text(4));

        String knownFirst = known.get(1).text(4);
        String unknownFirst = unknown.get(1).text(4);
        assertEquals(knownFirst.replaceAll("r=[^,]*,s=[^,]*,", ""), unknownFirst.replaceAll("r=[^,]*,s=[^,]*,", ""),
                "same iteration count");
        assertEquals(salt(knownFirst).length(), salt(unknownFirst).length(), "same salt length");
        assertEquals(knownFirst.length(), unknownFirst.length(), "same server-first shape");

        ErrorFields k = known.get(2).error();
        ErrorFields u = unknown.get(2).error();
        assertEquals("28P01", k.sqlState(), k.toString());
        assertEquals("28P01", u.sqlState(), u.toString());
        assertEquals("FATAL", u.severity());
        assertEquals(k.message().replace("app", "ghost"), u.message());
    }

    @Test
    void unknownUserGetsAStableDecoySalt() throws Exception {
        // like a real user's salt, the decoy must not change between attempts, or probing would reveal the user
        ProxyContext proxy = context("scram-sha-256");
        String ghost1 = salt(bogusScram(channel(proxy), "ghost").get(1).text(4));
        String ghost2 = salt(bogusScram(channel(proxy), "ghost").get(1).text(4));
        String other = salt(bogusScram(channel(proxy), "nobody").get(1).text(4));
        String app1 = salt(bogusScram(channel(proxy), "app").get(1).text(4));
        String app2 = salt(bogusScram(channel(proxy), "app").get(1).text(4));
        assertEquals(ghost1, ghost2);
        assertEquals(app1, app2);
        assertTrue(!ghost1.equals(other), "decoy salts differ per user name");
        assertTrue(!ghost1.equals(app1));
    }

    @Test
    void malformedSaslInitialResponseFailsAuthentication() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(startup(user("ghost")));
        written(ch);
        ch.writeInbound(saslInitial("SCRAM-SHA-256", "garbage"));
        assertFatal(ch, "28P01");
    }

    @Test
    void wrongSaslMechanismFailsAuthentication() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ch.writeInbound(startup(user("app")));
        written(ch);
        ch.writeInbound(saslInitial("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc"));
        assertFatal(ch, "28P01");
    }

    @Test
    void md5AsksUnknownUsersForAPasswordToo() throws Exception {
        EmbeddedChannel ch = channel("md5");
        ch.writeInbound(startup(user("ghost")));
        HandlerRig.Reply r = single(written(ch));
        assertEquals('R', r.type());
        assertEquals(5, r.int32(0));
        assertEquals(8, r.body().length, "code and 4-byte salt");
        ByteBuf p = Unpooled.buffer().writeByte('p').writeInt(4 + 36);
        cstr(p, "md5" + "0".repeat(32));
        ch.writeInbound(p);
        assertFatal(ch, "28P01");
    }

    @Test
    void trustRejectsUnknownUsers() throws Exception {
        EmbeddedChannel ch = channel("trust");
        ch.writeInbound(startup(user("ghost")));
        assertFatal(ch, "28P01");
    }

    @Test
    void startupSplitAcrossReads() throws Exception {
        EmbeddedChannel ch = channel("scram-sha-256");
        ByteBuf s = startup(user("app"));
        while (s.isReadable()) {
            ch.writeInbound(s.readRetainedSlice(Math.min(3, s.readableBytes())));
            if (s.isReadable()) {
                assertArrayEquals(new byte[0], written(ch));
            }
        }
        s.release();
        assertEquals(10, single(written(ch)).int32(0));
    }

    private static String salt(String serverFirst) {
        int s = serverFirst.indexOf(",s=") + 3;
        return serverFirst.substring(s, serverFirst.indexOf(',', s));
    }

    /**
     * Found by fuzzing: a PasswordMessage whose length covers bytes after the password's terminator was accepted (and
     * the bytes swallowed). PostgreSQL refuses it ("invalid password packet size"), and so does the proxy now.
     */
    @Test
    void md5PasswordMessageWithBytesAfterThePasswordIsAProtocolViolation() throws Exception {
        EmbeddedChannel ch = channel("md5");
        ch.writeInbound(startup(user("app")));
        HandlerRig.Reply r = single(written(ch));
        byte[] salt = java.util.Arrays.copyOfRange(r.body(), 4, 8);
        String right = io.pgbalancer.protocol.auth.Md5Password.encode("app", "secret", salt);
        ByteBuf p = Unpooled.buffer().writeByte('p').writeInt(0);
        cstr(p, right);
        p.writeBytes(new byte[] {'Q', 0});
        p.setInt(1, p.writerIndex() - 1);
        ch.writeInbound(p);
        assertFatal(ch, "08P01");
    }
}

// purpose: StartupPacket.parse decodes SSL/GSSENC/Cancel requests and protocol-3 startups and rejects malformed ones
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class StartupPacketTest {
    private final List<ByteBuf> buffers = new ArrayList<>();

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterEach
    void release() {
        for (ByteBuf b : buffers) {
            assertEquals(1, b.refCnt(), "parse must not retain or release its input");
            b.release();
        }
    }

    /** A packet whose length field is filled in; {@code prefix} junk bytes come before it in the buffer. */
    private ByteBuf packet(int prefix, Consumer<ByteBuf> body) {
        ByteBuf buf = Unpooled.buffer();
        buffers.add(buf);
        buf.writeZero(prefix);
        buf.writeInt(0);
        body.accept(buf);
        buf.setInt(prefix, buf.writerIndex() - prefix);
        return buf;
    }

    private static StartupPacket parse(ByteBuf buf, int prefix) {
        return StartupPacket.parse(buf, prefix, buf.writerIndex() - prefix);
    }

    private static void cstr(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    @Test
    void sslRequest() {
        StartupPacket p = parse(packet(0, b -> b.writeInt(StartupPacket.SSL_REQUEST)), 0);
        assertEquals(StartupPacket.SSL_REQUEST, p.code());
        assertEquals(80877103, p.code());
        assertFalse(p.isStartup());
        assertTrue(p.parameters().isEmpty());
        assertTrue(p.unsupportedOptions().isEmpty());
    }

    @Test
    void gssEncRequest() {
        StartupPacket p = parse(packet(0, b -> b.writeInt(StartupPacket.GSSENC_REQUEST)), 0);
        assertEquals(80877104, p.code());
        assertFalse(p.isStartup());
    }

    @Test
    void cancelRequestCarriesProcessIdAndSecret() {
        StartupPacket p = parse(packet(3, b -> b.writeInt(StartupPacket.CANCEL_REQUEST).writeInt(12345)
                .writeInt(0xDEADBEEF)), 3);
        assertEquals(80877102, p.code());
        assertFalse(p.isStartup());
        assertEquals(12345, p.cancelProcessId());
        assertEquals(0xDEADBEEF, p.cancelSecret());
    }

    @Test
    void protocol30WithParametersInOrder() {
        StartupPacket p = parse(packet(0, b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "user");
            cstr(b, "app");
            cstr(b, "database");
            cstr(b, "shop");
            cstr(b, "application_name");
            cstr(b, "");
            cstr(b, "client_encoding");
            cstr(b, "UTF8");
            cstr(b, "search_path");
            cstr(b, "\"Schéma\", public");
            b.writeByte(0);
        }), 0);
        assertEquals(196608, p.code());
        assertTrue(p.isStartup());
        assertEquals(0, p.minorVersion());
        assertEquals(List.of("user", "database", "application_name", "client_encoding", "search_path"),
                List.copyOf(p.parameters().keySet()));
        assertEquals("app", p.parameters().get("user"));
        assertEquals("shop", p.parameters().get("database"));
        assertEquals("", p.parameters().get("application_name"));
        assertEquals("\"Schéma\", public", p.parameters().get("search_path"));
        assertTrue(p.unsupportedOptions().isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> p.parameters().put("x", "y"));
    }

    @Test
    void parsesAtAnOffset() {
        ByteBuf buf = packet(17, b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "user");
            cstr(b, "u");
            b.writeByte(0);
        });
        buf.writeBytes(new byte[] {'Q', 0, 0, 0, 4}); // trailing bytes of the next message are not part of it
        StartupPacket p = StartupPacket.parse(buf, 17, buf.getInt(17));
        assertEquals(Map.of("user", "u"), p.parameters());
    }

    @Test
    void protocol30WithoutParameters() {
        StartupPacket p = parse(packet(0, b -> b.writeInt(StartupPacket.PROTOCOL_3_0).writeByte(0)), 0);
        assertTrue(p.isStartup());
        assertTrue(p.parameters().isEmpty());
    }

    @Test
    void protocol32() {
        StartupPacket p = parse(packet(0, b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_2);
            cstr(b, "user");
            cstr(b, "app");
            b.writeByte(0);
        }), 0);
        assertEquals(196610, p.code());
        assertTrue(p.isStartup());
        assertEquals(2, p.minorVersion());
        assertEquals(Map.of("user", "app"), p.parameters());
    }

    @Test
    void newerMinorVersionIsParsedForNegotiation() {
        StartupPacket p = parse(packet(0, b -> b.writeInt(3 << 16 | 9).writeByte(0)), 0);
        assertTrue(p.isStartup());
        assertEquals(9, p.minorVersion());
    }

    @Test
    void protocolExtensionsAreCollectedAsUnsupported() {
        StartupPacket p = parse(packet(0, b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "_pq_.compression");
            cstr(b, "on");
            cstr(b, "user");
            cstr(b, "app");
            cstr(b, "_pq_.other");
            cstr(b, "1");
            b.writeByte(0);
        }), 0);
        assertEquals(List.of("_pq_.compression", "_pq_.other"), p.unsupportedOptions());
        assertEquals(Map.of("user", "app"), p.parameters());
    }

    private void rejects(Consumer<ByteBuf> body) {
        ByteBuf buf = packet(0, body);
        ProtocolException e = assertThrows(ProtocolException.class, () -> parse(buf, 0));
        assertEquals(ProtocolException.PROTOCOL_VIOLATION, e.sqlState());
    }

    @Test
    void missingFinalTerminatorIsRejected() {
        rejects(b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "user");
            cstr(b, "app");
        });
    }

    @Test
    void unterminatedValueIsRejected() {
        rejects(b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "user");
            b.writeCharSequence("app", StandardCharsets.US_ASCII);
        });
    }

    @Test
    void unterminatedNameIsRejected() {
        rejects(b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            b.writeCharSequence("user", StandardCharsets.US_ASCII);
        });
    }

    @Test
    void nameWithoutValueIsRejected() {
        rejects(b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "user");
            b.writeByte(0); // "user" then terminator: the value is the empty string and the list is unterminated
        });
    }

    @Test
    void bytesAfterTheTerminatorAreRejected() {
        rejects(b -> {
            b.writeInt(StartupPacket.PROTOCOL_3_0);
            cstr(b, "user");
            cstr(b, "app");
            b.writeByte(0);
            b.writeByte('x');
        });
        rejects(b -> b.writeInt(StartupPacket.PROTOCOL_3_0).writeByte(0).writeByte(0));
    }

    @Test
    void emptyBodyIsRejected() {
        rejects(b -> b.writeInt(StartupPacket.PROTOCOL_3_0));
    }

    @Test
    void protocol2IsRejected() {
        ByteBuf buf = packet(0, b -> {
            b.writeInt(2 << 16);
            cstr(b, "user");
            cstr(b, "app");
            b.writeByte(0);
        });
        ProtocolException e = assertThrows(ProtocolException.class, () -> parse(buf, 0));
        assertTrue(e.getMessage().contains("2.0"), e.getMessage());
    }

    @Test
    void protocol4AndGarbageCodesAreRejected() {
        rejects(b -> b.writeInt(4 << 16).writeByte(0));
        rejects(b -> b.writeInt(0).writeByte(0));
        rejects(b -> b.writeInt(-1).writeByte(0));
        rejects(b -> b.writeInt(1234 << 16 | 5678)); // like the special codes, but not one of them
    }

    @Test
    void wrongLengthsForSpecialCodesAreRejected() {
        rejects(b -> b.writeInt(StartupPacket.SSL_REQUEST).writeInt(0));
        rejects(b -> b.writeInt(StartupPacket.GSSENC_REQUEST).writeByte(0));
        rejects(b -> b.writeInt(StartupPacket.CANCEL_REQUEST).writeInt(1));
        rejects(b -> b.writeInt(StartupPacket.CANCEL_REQUEST).writeInt(1).writeInt(2).writeInt(3));
        rejects(b -> b.writeInt(StartupPacket.CANCEL_REQUEST));
    }

    @Test
    void lengthBelowEightIsRejected() {
        ByteBuf buf = Unpooled.buffer();
        buffers.add(buf);
        buf.writeInt(4);
        buf.writeInt(StartupPacket.SSL_REQUEST); // present in the buffer but outside the declared packet
        for (int len = 4; len < 8; len++) {
            int l = len;
            assertThrows(ProtocolException.class, () -> StartupPacket.parse(buf, 0, l));
        }
    }
}

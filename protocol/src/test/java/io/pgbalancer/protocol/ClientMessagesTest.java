// purpose: ClientMessages builds byte-exact frontend messages (startup, cancel, auth, Query, Parse, Terminate)
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClientMessagesTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    private static ServerMessagesTest.Bytes b() {
        return ServerMessagesTest.b();
    }

    private static byte[] drain(ByteBuf buf) {
        return ServerMessagesTest.drain(buf);
    }

    private static byte[] withBuf(Consumer<ByteBuf> writer) {
        return ServerMessagesTest.withBuf(writer);
    }

    @Test
    void startupMessage() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "app");
        params.put("database", "shop");
        params.put("application_name", "pgbalancer");
        byte[] got = drain(ClientMessages.startup(ALLOC, params));
        byte[] body = b().i32(196608).str("user").str("app").str("database").str("shop")
                .str("application_name").str("pgbalancer").i8(0).get();
        assertArrayEquals(b().i32(body.length + 4).raw(body).get(), got);
    }

    @Test
    void startupMessageParsesBack() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "ünï");
        params.put("database", "");
        ByteBuf buf = ClientMessages.startup(ALLOC, params);
        try {
            StartupPacket p = StartupPacket.parse(buf, 0, buf.getInt(0));
            assertEquals(buf.readableBytes(), buf.getInt(0));
            assertEquals(StartupPacket.PROTOCOL_3_0, p.code());
            assertEquals(params, p.parameters());
            assertEquals(List.copyOf(params.keySet()), List.copyOf(p.parameters().keySet()));
        } finally {
            buf.release();
        }
    }

    @Test
    void startupMessageWithoutParameters() {
        assertArrayEquals(b().i32(9).i32(196608).i8(0).get(), drain(ClientMessages.startup(ALLOC, Map.of())));
    }

    @Test
    void cancelRequest() {
        byte[] got = drain(ClientMessages.cancelRequest(ALLOC, 4242, 0xCAFEBABE));
        assertArrayEquals(b().i32(16).i32(80877102).i32(4242).i32(0xCAFEBABE).get(), got);
        ByteBuf buf = Unpooled.wrappedBuffer(got);
        try {
            StartupPacket p = StartupPacket.parse(buf, 0, 16);
            assertEquals(4242, p.cancelProcessId());
            assertEquals(0xCAFEBABE, p.cancelSecret());
        } finally {
            buf.release();
        }
    }

    @Test
    void passwordMessage() {
        byte[] got = drain(ClientMessages.password(ALLOC, "md5" + "0123456789abcdef0123456789abcdef"));
        assertEquals(got.length - 1, ByteBuffer.wrap(got).getInt(1));
        assertArrayEquals(b().str("md50123456789abcdef0123456789abcdef").message('p'), got);
        assertArrayEquals(b().str("pässwörd").message('p'), drain(ClientMessages.password(ALLOC, "pässwörd")));
    }

    @Test
    void saslInitialResponse() {
        byte[] data = "n,,n=,r=rOprNGfwEbeRWgbNEkqO".getBytes(StandardCharsets.US_ASCII);
        byte[] got = drain(ClientMessages.saslInitialResponse(ALLOC, "SCRAM-SHA-256", data));
        assertEquals(got.length - 1, ByteBuffer.wrap(got).getInt(1));
        assertArrayEquals(b().str("SCRAM-SHA-256").i32(data.length).raw(data).message('p'), got);
    }

    @Test
    void saslResponse() {
        byte[] data = "c=biws,r=abc,p=cHJvb2Y=".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(b().raw(data).message('p'), drain(ClientMessages.saslResponse(ALLOC, data)));
        assertArrayEquals(b().message('p'), drain(ClientMessages.saslResponse(ALLOC, new byte[0])));
    }

    @Test
    void queryAppendsToTheBuffer() {
        byte[] got = withBuf(buf -> {
            ClientMessages.query(buf, "SET search_path TO 'a''b'");
            ClientMessages.query(buf, "SELECT 'é'");
        });
        byte[] expected = b().raw(b().str("SET search_path TO 'a''b'").message('Q'))
                .raw(b().str("SELECT 'é'").message('Q')).get();
        assertArrayEquals(expected, got);
    }

    @Test
    void parseReplacesTheNameAndCopiesTheRest() {
        // a client's Parse: name "s1", query, 1 parameter type (int4)
        byte[] rest = b().str("SELECT $1").raw(new byte[] {0, 1}).i32(23).get();
        byte[] client = b().str("s1").raw(rest).message('P');
        ByteBuf source = Unpooled.wrappedBuffer(client);
        try {
            int restStart = 5 + 3;
            byte[] got = withBuf(buf -> ClientMessages.parse(buf, "pgbalancer_17", source, restStart, client.length));
            assertEquals(got.length - 1, ByteBuffer.wrap(got).getInt(1));
            assertArrayEquals(b().str("pgbalancer_17").raw(rest).message('P'), got);
            assertEquals(0, source.readerIndex(), "the source indexes are not moved");
        } finally {
            source.release();
        }
    }

    @Test
    void parseAfterOtherMessagesInTheSameBuffer() {
        byte[] rest = b().str("SELECT 1").raw(new byte[] {0, 0}).get();
        ByteBuf source = Unpooled.wrappedBuffer(rest);
        try {
            byte[] got = withBuf(buf -> {
                buf.writeBytes(new byte[] {'S', 0, 0, 0, 4});
                ClientMessages.parse(buf, "", source, 0, rest.length);
            });
            assertArrayEquals(b().raw(new byte[] {'S', 0, 0, 0, 4}).raw(b().str("").raw(rest).message('P')).get(), got);
        } finally {
            source.release();
        }
    }

    @Test
    void terminate() {
        assertArrayEquals(new byte[] {'X', 0, 0, 0, 4}, withBuf(ClientMessages::terminate));
    }

    @Test
    void startupFramesThroughTheScanner() {
        ByteBuf buf = ClientMessages.startup(ALLOC, Map.of("user", "u"));
        int size = buf.readableBytes();
        FrameScanner scanner = new FrameScanner("server", false, 1 << 20);
        scanner.add(ALLOC, buf);
        int[] seen = new int[1];
        scanner.scan((type, b, start, length) -> {
            seen[0] = length;
            return true;
        });
        scanner.release();
        assertEquals(0, buf.refCnt());
        assertEquals(size, seen[0]);
    }
}

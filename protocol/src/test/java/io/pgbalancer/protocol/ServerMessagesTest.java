// purpose: ServerMessages builds byte-exact backend messages and ErrorFields reads errors and notices back tolerantly
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ServerMessagesTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    /** Expected bytes, written by hand. */
    static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes i8(int v) {
            out.write(v);
            return this;
        }

        Bytes i16(int v) {
            out.writeBytes(ByteBuffer.allocate(2).putShort((short) v).array());
            return this;
        }

        Bytes i32(int v) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(v).array());
            return this;
        }

        Bytes str(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        Bytes raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        byte[] get() {
            return out.toByteArray();
        }

        /** Wraps the bytes so far as a typed message body. */
        byte[] message(char type) {
            byte[] body = get();
            return new Bytes().i8(type).i32(body.length + 4).raw(body).get();
        }
    }

    static Bytes b() {
        return new Bytes();
    }

    /** The buffer's readable bytes; releases it. */
    static byte[] drain(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            assertEquals(1, buf.refCnt());
            buf.release();
        }
    }

    static byte[] withBuf(java.util.function.Consumer<ByteBuf> writer) {
        ByteBuf buf = ALLOC.buffer();
        writer.accept(buf);
        return drain(buf);
    }

    /** Checks the framing of a single message: type, and length field = bytes after the type. */
    static void assertFramed(char type, byte[] message) {
        assertEquals((byte) type, message[0], "type");
        assertEquals(message.length - 1, ByteBuffer.wrap(message).getInt(1), "length field");
    }

    @Test
    void error() {
        byte[] got = drain(ServerMessages.error(ALLOC, "FATAL", "28P01", "password authentication failed for user \"x\""));
        assertFramed('E', got);
        assertArrayEquals(b().i8('S').str("FATAL").i8('V').str("FATAL").i8('C').str("28P01")
                .i8('M').str("password authentication failed for user \"x\"").i8(0).message('E'), got);
    }

    /**
     * Found by fuzzing: a server's ErrorResponse without a C field (a buggy or hostile server) to a hidden query ended
     * the session with a FATAL error pgbalancer wrote with an empty SQLSTATE. Every error pgbalancer writes has one.
     */
    @Test
    void errorWithoutAValidSqlStateGetsXX000() {
        for (String bad : new String[] {"", null, "0800", "08P01X"}) {
            byte[] got = drain(ServerMessages.error(ALLOC, "FATAL", bad, "the server failed"));
            assertArrayEquals(b().i8('S').str("FATAL").i8('V').str("FATAL").i8('C').str("XX000")
                    .i8('M').str("the server failed").i8(0).message('E'), got, "SQLSTATE " + bad);
        }
    }

    @Test
    void errorWithMultiByteAndLongText() {
        String message = "ünïcødé ✓ ".repeat(500);
        byte[] got = drain(ServerMessages.error(ALLOC, "ERROR", "XX000", message));
        assertFramed('E', got);
        assertArrayEquals(b().i8('S').str("ERROR").i8('V').str("ERROR").i8('C').str("XX000").i8('M').str(message)
                .i8(0).message('E'), got);
    }

    @Test
    void errorWithDetailAndHint() {
        byte[] got = withBuf(buf -> ServerMessages.error(buf, "ERROR", "22023", "bad", "why", "try this"));
        assertFramed('E', got);
        assertArrayEquals(b().i8('S').str("ERROR").i8('V').str("ERROR").i8('C').str("22023").i8('M').str("bad")
                .i8('D').str("why").i8('H').str("try this").i8(0).message('E'), got);
        byte[] hintOnly = withBuf(buf -> ServerMessages.error(buf, "ERROR", "22023", "bad", null, "h"));
        assertArrayEquals(b().i8('S').str("ERROR").i8('V').str("ERROR").i8('C').str("22023").i8('M').str("bad")
                .i8('H').str("h").i8(0).message('E'), hintOnly);
    }

    @Test
    void queryResultMessages() {
        assertArrayEquals(b().i16(1).str("pgbalancer.min_lsn").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(1)
                .message('T'), withBuf(buf -> ServerMessages.textRowDescription(buf, "pgbalancer.min_lsn", 1)));
        assertArrayEquals(b().i16(2).i32(6).raw("0/1✓".getBytes(StandardCharsets.UTF_8)).i32(-1).message('D'),
                withBuf(buf -> ServerMessages.dataRow(buf, "0/1✓", null)));
        assertArrayEquals(b().str("SHOW").message('C'), withBuf(buf -> ServerMessages.commandComplete(buf, "SHOW")));
        assertArrayEquals(b().i16(2).i32(25).i32(23).message('t'),
                withBuf(buf -> ServerMessages.parameterDescription(buf, new int[] {25, 23})));
        assertArrayEquals(b().i16(0).message('t'), withBuf(buf -> ServerMessages.parameterDescription(buf, new int[0])));
        assertArrayEquals(new byte[] {'2', 0, 0, 0, 4}, withBuf(buf -> ServerMessages.empty(buf, '2')));
    }

    @Test
    void multiColumnRowDescription() {
        assertArrayEquals(b().i16(2).str("a").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(0)
                        .str("bc").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(0).message('T'),
                withBuf(buf -> ServerMessages.textRowDescription(buf, java.util.List.of("a", "bc"))));
    }

    @Test
    void authenticationRequests() {
        assertArrayEquals(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0}, drain(ServerMessages.authOk(ALLOC)));
        assertArrayEquals(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 3}, drain(ServerMessages.authCleartext(ALLOC)));
        assertArrayEquals(new byte[] {'R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, (byte) 0xFE, 4},
                drain(ServerMessages.authMd5(ALLOC, new byte[] {1, 2, (byte) 0xFE, 4})));
    }

    @Test
    void authSasl() {
        byte[] got = drain(ServerMessages.authSasl(ALLOC, List.of("SCRAM-SHA-256")));
        assertFramed('R', got);
        assertArrayEquals(b().i32(10).str("SCRAM-SHA-256").i8(0).message('R'), got);
        byte[] two = drain(ServerMessages.authSasl(ALLOC, List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")));
        assertArrayEquals(b().i32(10).str("SCRAM-SHA-256-PLUS").str("SCRAM-SHA-256").i8(0).message('R'), two);
    }

    @Test
    void authSaslContinueAndFinal() {
        byte[] data = "r=abc,s=c2FsdA==,i=4096".getBytes(StandardCharsets.US_ASCII);
        byte[] got = drain(ServerMessages.authSaslContinue(ALLOC, data));
        assertFramed('R', got);
        assertArrayEquals(b().i32(11).raw(data).message('R'), got);
        byte[] fin = "v=c2lnbmF0dXJl".getBytes(StandardCharsets.US_ASCII);
        byte[] got2 = drain(ServerMessages.authSaslFinal(ALLOC, fin));
        assertArrayEquals(b().i32(12).raw(fin).message('R'), got2);
        assertArrayEquals(b().i32(11).message('R'), drain(ServerMessages.authSaslContinue(ALLOC, new byte[0])));
    }

    @Test
    void parameterStatusAppendsToTheBuffer() {
        byte[] got = withBuf(buf -> {
            buf.writeByte('!');
            ServerMessages.parameterStatus(buf, "TimeZone", "Europe/Zürich");
        });
        byte[] expected = b().i8('!').raw(b().str("TimeZone").str("Europe/Zürich").message('S')).get();
        assertArrayEquals(expected, got);
    }

    @Test
    void readyForQuery() {
        for (char status : new char[] {'I', 'T', 'E'}) {
            byte[] got = withBuf(buf -> ServerMessages.readyForQuery(buf, status));
            assertArrayEquals(new byte[] {'Z', 0, 0, 0, 5, (byte) status}, got);
        }
    }

    @Test
    void welcomeIsParameterStatusesThenKeyDataThenReady() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("server_version", "16.4");
        params.put("client_encoding", "UTF8");
        params.put("application_name", "");
        byte[] got = drain(ServerMessages.welcome(ALLOC, params, 77, -2));
        byte[] expected = b()
                .raw(b().str("server_version").str("16.4").message('S'))
                .raw(b().str("client_encoding").str("UTF8").message('S'))
                .raw(b().str("application_name").str("").message('S'))
                .raw(b().i32(77).i32(-2).message('K'))
                .raw(b().i8('I').message('Z'))
                .get();
        assertArrayEquals(expected, got);
    }

    @Test
    void welcomeWithoutParameters() {
        byte[] got = drain(ServerMessages.welcome(ALLOC, Map.of(), 1, 2));
        assertArrayEquals(b().raw(b().i32(1).i32(2).message('K')).raw(b().i8('I').message('Z')).get(), got);
    }

    @Test
    void negotiateProtocolVersion() {
        byte[] got = drain(ServerMessages.negotiateProtocolVersion(ALLOC, 0, List.of("_pq_.a", "_pq_.b")));
        assertFramed('v', got);
        assertArrayEquals(b().i32(0).i32(2).str("_pq_.a").str("_pq_.b").message('v'), got);
        assertArrayEquals(b().i32(0).i32(0).message('v'),
                drain(ServerMessages.negotiateProtocolVersion(ALLOC, 0, List.of())));
    }

    @Test
    void syntheticCompletions() {
        assertArrayEquals(new byte[] {'1', 0, 0, 0, 4}, drain(ServerMessages.parseComplete(ALLOC)));
        assertArrayEquals(new byte[] {'3', 0, 0, 0, 4}, drain(ServerMessages.closeComplete(ALLOC)));
    }

    // ---- ErrorFields ----

    @Test
    void errorFieldsReadsWhatErrorBuilds() {
        ByteBuf buf = ServerMessages.error(ALLOC, "FATAL", "53300", "sorry, too many clients already");
        try {
            ErrorFields f = ErrorFields.parse(buf, buf.readerIndex(), buf.readableBytes());
            assertEquals(new ErrorFields("FATAL", "53300", "sorry, too many clients already"), f);
            assertEquals("FATAL 53300: sorry, too many clients already", f.toString());
        } finally {
            buf.release();
        }
    }

    @Test
    void errorFieldsAtAnOffsetStopsAtTheMessageEnd() {
        byte[] first = b().i8('S').str("ERROR").i8('C').str("22012").i8('M').str("division by zero").i8(0)
                .message('E');
        byte[] second = b().i8('S').str("FATAL").i8('C').str("XX000").i8('M').str("other").i8(0).message('E');
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeBytes(new byte[] {'Z', 0, 0, 0, 5, 'I'}).writeBytes(first).writeBytes(second);
            assertEquals(new ErrorFields("ERROR", "22012", "division by zero"),
                    ErrorFields.parse(buf, 6, first.length));
            assertEquals(new ErrorFields("FATAL", "XX000", "other"),
                    ErrorFields.parse(buf, 6 + first.length, second.length));
        } finally {
            buf.release();
        }
    }

    @Test
    void errorFieldsToleratesAMissingSqlState() {
        assertEquals(new ErrorFields("ERROR", "", "no code"),
                parseBytes(b().i8('S').str("ERROR").i8('M').str("no code").i8(0).message('E')));
    }

    @Test
    void errorFieldsToleratesAnEmptyMessage() {
        assertEquals(new ErrorFields("", "", ""), parseBytes(b().i8(0).message('E')));
        assertEquals(new ErrorFields("", "", ""), parseBytes(b().message('E')));
    }

    @Test
    void errorFieldsToleratesAnUnterminatedField() {
        ErrorFields f = parseBytes(b().i8('S').str("ERROR").i8('C').str("42000").i8('M')
                .raw("truncated".getBytes(StandardCharsets.US_ASCII)).message('E'));
        assertEquals("ERROR", f.severity());
        assertEquals("42000", f.sqlState());
        assertEquals("", f.message());
    }

    @Test
    void nonLocalizedSeverityWinsOverTheLocalizedOne() {
        // 'S' may be translated; 'V' (9.6+) never is, whichever comes first
        assertEquals("ERROR", parseBytes(b().i8('S').str("FEHLER").i8('V').str("ERROR").i8('C').str("42P01")
                .i8(0).message('E')).severity());
        assertEquals("ERROR", parseBytes(b().i8('V').str("ERROR").i8('S').str("FEHLER").i8('C').str("42P01")
                .i8(0).message('E')).severity());
        assertEquals("FEHLER", parseBytes(b().i8('S').str("FEHLER").i8(0).message('E')).severity());
    }

    @Test
    void errorFieldsReadsNoticesAndSkipsUnknownFields() {
        ErrorFields f = parseBytes(b().i8('S').str("WARNING").i8('V').str("WARNING").i8('C').str("01000")
                .i8('D').str("detail").i8('H').str("hint").i8('M').str("careful").i8('W').str("where")
                .i8('P').str("3").i8(0).message('N'));
        assertEquals(new ErrorFields("WARNING", "01000", "careful"), f);
    }

    private static ErrorFields parseBytes(byte[] message) {
        ByteBuf buf = Unpooled.wrappedBuffer(message);
        try {
            return ErrorFields.parse(buf, 0, message.length);
        } finally {
            buf.release();
        }
    }
}

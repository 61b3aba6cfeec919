// purpose: FrameScanner yields the same frames whatever the read splits, rejects bad lengths early and never leaks
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FrameScannerTest {
    private static final int MAX = 1024 * 1024;

    /** Records every buffer it makes so each test can check all of them were released. */
    static final class TrackingAllocator extends AbstractByteBufAllocator {
        final List<ByteBuf> made = new ArrayList<>();

        TrackingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        ByteBuf of(byte[] bytes, int from, int to) {
            ByteBuf b = heapBuffer(to - from);
            b.writeBytes(bytes, from, to - from);
            return b;
        }

        void assertAllReleased() {
            for (int i = 0; i < made.size(); i++) {
                assertEquals(0, made.get(i).refCnt(), "buffer #" + i + " of " + made.size() + " was not released");
            }
        }
    }

    private final TrackingAllocator alloc = new TrackingAllocator();

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterEach
    void everythingReleased() {
        alloc.assertAllReleased();
    }

    // ---- message builders (plain byte arrays, no Netty buffers) ----

    static final class Out {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Out i8(int v) {
            bytes.write(v);
            return this;
        }

        Out i16(int v) {
            bytes.write(v >>> 8);
            bytes.write(v);
            return this;
        }

        Out i32(int v) {
            bytes.writeBytes(ByteBuffer.allocate(4).putInt(v).array());
            return this;
        }

        Out str(String s) {
            bytes.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
            return this;
        }

        Out raw(byte[] b) {
            bytes.writeBytes(b);
            return this;
        }

        Out raw(String s) {
            return raw(s.getBytes(StandardCharsets.UTF_8));
        }

        byte[] toBytes() {
            return bytes.toByteArray();
        }
    }

    static Out body() {
        return new Out();
    }

    /** A typed message: type, int32 length (itself included), body. */
    static byte[] typed(char type, Out body) {
        byte[] b = body.toBytes();
        return new Out().i8(type).i32(b.length + 4).raw(b).toBytes();
    }

    static byte[] typed(char type) {
        return typed(type, body());
    }

    static byte[] untyped(Out body) {
        byte[] b = body.toBytes();
        return new Out().i32(b.length + 4).raw(b).toBytes();
    }

    record Frame(byte type, byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Frame f && f.type == type && Arrays.equals(f.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return (type == 0 ? "untyped" : "'" + (char) type + "'") + "[" + bytes.length + "]";
        }
    }

    /** Every frontend message type (after an SSLRequest and the StartupMessage), then every backend message type. */
    static List<byte[]> allMessages() {
        List<byte[]> m = new ArrayList<>();
        // startup phase (untyped)
        m.add(untyped(body().i32(StartupPacket.SSL_REQUEST)));
        m.add(untyped(body().i32(StartupPacket.PROTOCOL_3_0).str("user").str("app").str("database").str("db")
                .str("application_name").str("psql").i8(0)));
        // frontend
        m.add(typed('Q', body().str("SELECT 1; SELECT 'Q'")));
        m.add(typed('P', body().str("s1").str("SELECT $1::int, $2").i16(2).i32(23).i32(0)));
        m.add(typed('B', body().str("").str("s1").i16(1).i16(0).i16(2).i32(1).raw("7").i32(-1).i16(1).i16(1)));
        m.add(typed('D', body().i8('S').str("s1")));
        m.add(typed('D', body().i8('P').str("")));
        m.add(typed('E', body().str("").i32(0)));
        m.add(typed('S'));
        m.add(typed('H'));
        m.add(typed('C', body().i8('S').str("s1")));
        m.add(typed('C', body().i8('P').str("portal")));
        m.add(typed('d', body().raw(new byte[] {0, 0, 0, 0, 'Q', 0, 0, 0, 4, (byte) 0xFF, 10})));
        m.add(typed('d', body().raw(new byte[0])));
        m.add(typed('c'));
        m.add(typed('f', body().str("client gave up")));
        m.add(typed('F', body().i32(1598).i16(1).i16(0).i16(1).i32(3).raw("abc").i16(0)));
        m.add(typed('p', body().str("md5abcdef0123456789")));
        m.add(typed('p', body().str("SCRAM-SHA-256").i32(8).raw("n,,n=,r=")));
        m.add(typed('p', body().raw("c=biws,r=abc,p=xyz")));
        m.add(typed('X'));
        // backend: authentication requests
        m.add(typed('R', body().i32(0)));
        m.add(typed('R', body().i32(2)));
        m.add(typed('R', body().i32(3)));
        m.add(typed('R', body().i32(5).raw(new byte[] {1, 2, 3, 4})));
        m.add(typed('R', body().i32(7)));
        m.add(typed('R', body().i32(8).raw(new byte[] {9, 8, 7})));
        m.add(typed('R', body().i32(9)));
        m.add(typed('R', body().i32(10).str("SCRAM-SHA-256-PLUS").str("SCRAM-SHA-256").i8(0)));
        m.add(typed('R', body().i32(11).raw("r=abc,s=c2FsdA==,i=4096")));
        m.add(typed('R', body().i32(12).raw("v=c2lnbmF0dXJl")));
        // backend: status and data
        m.add(typed('S', body().str("server_version").str("16.4")));
        m.add(typed('K', body().i32(4242).i32(-559038737)));
        m.add(typed('K', body().i32(4243).raw(new byte[32]))); // protocol 3.2: longer cancel key
        m.add(typed('Z', body().i8('I')));
        m.add(typed('Z', body().i8('T')));
        m.add(typed('Z', body().i8('E')));
        m.add(typed('T', body().i16(2)
                .str("id").i32(16384).i16(1).i32(23).i16(4).i32(-1).i16(0)
                .str("name").i32(16384).i16(2).i32(25).i16(-1).i32(-1).i16(1)));
        m.add(typed('D', body().i16(3).i32(1).raw("7").i32(-1).i32(0)));
        m.add(typed('C', body().str("SELECT 1")));
        m.add(typed('C', body().str("INSERT 0 5")));
        m.add(typed('E', body().i8('S').str("ERROR").i8('V').str("ERROR").i8('C').str("42P01")
                .i8('M').str("relation \"x\" does not exist").i8('P').str("15").i8(0)));
        m.add(typed('N', body().i8('S').str("NOTICE").i8('C').str("00000").i8('M').str("hello").i8(0)));
        m.add(typed('A', body().i32(4242).str("chan").str("payload")));
        m.add(typed('1'));
        m.add(typed('2'));
        m.add(typed('3'));
        m.add(typed('n'));
        m.add(typed('s'));
        m.add(typed('I'));
        m.add(typed('t', body().i16(2).i32(23).i32(25)));
        m.add(typed('G', body().i8(0).i16(2).i16(0).i16(0)));
        m.add(typed('H', body().i8(1).i16(1).i16(1)));
        m.add(typed('W', body().i8(0).i16(0)));
        m.add(typed('d', body().raw("1\tfoo\n")));
        m.add(typed('c'));
        m.add(typed('V', body().i32(4).raw(new byte[] {0, 0, 0, 1})));
        m.add(typed('V', body().i32(-1)));
        m.add(typed('v', body().i32(0).i32(2).str("_pq_.a").str("_pq_.b")));
        // a large DataRow, spanning many reads
        byte[] big = new byte[70_000];
        new Random(7).nextBytes(big);
        m.add(typed('D', body().i16(1).i32(big.length).raw(big)));
        m.add(typed('Z', body().i8('I')));
        return m;
    }

    static byte[] concat(List<byte[]> parts) {
        Out out = new Out();
        parts.forEach(out::raw);
        return out.toBytes();
    }

    static List<Frame> expectedFrames(List<byte[]> messages) {
        List<Frame> frames = new ArrayList<>();
        boolean typed = false;
        for (byte[] m : messages) {
            frames.add(new Frame(typed ? m[0] : 0, m));
            if (!typed && ByteBuffer.wrap(m).getInt(4) >> 16 == 3) {
                typed = true;
            }
        }
        return frames;
    }

    /** Collects frames; switches the scanner to typed after a protocol-3 startup packet; may stop randomly. */
    static final class Collector implements FrameVisitor {
        final List<Frame> frames = new ArrayList<>();
        final FrameScanner scanner;
        final Random stopper;
        boolean stopped;

        Collector(FrameScanner scanner, Random stopper) {
            this.scanner = scanner;
            this.stopper = stopper;
        }

        @Override
        public boolean onFrame(byte type, ByteBuf buf, int start, int length) {
            byte[] bytes = new byte[length];
            buf.getBytes(start, bytes);
            if (scanner.isTyped()) {
                assertEquals(bytes[0], type, "type byte passed to the visitor");
            } else {
                assertEquals(0, type, "untyped packets are visited with type 0");
                if (ByteBuffer.wrap(bytes).getInt(4) >> 16 == 3) {
                    scanner.startTyped();
                }
            }
            frames.add(new Frame(type, bytes));
            if (stopper != null && stopper.nextInt(4) == 0) {
                stopped = true;
                return false;
            }
            return true;
        }

        /** Scans until everything complete was visited (re-scanning after the visitor asked to stop). */
        void drain() {
            do {
                stopped = false;
                scanner.scan(this);
            } while (stopped);
            scanner.compact();
        }
    }

    private List<Frame> feed(byte[] stream, int[] cuts, Random stopper) {
        FrameScanner scanner = new FrameScanner("test", false, MAX);
        Collector c = new Collector(scanner, stopper);
        try {
            int from = 0;
            for (int cut : cuts) {
                scanner.add(alloc, alloc.of(stream, from, cut));
                c.drain();
                from = cut;
            }
            assertFalse(scanner.hasBufferedBytes(), "bytes left over after the last complete frame");
            assertNull(scanner.buffer(), "a fully consumed buffer is freed by compact()");
        } finally {
            scanner.release();
        }
        return c.frames;
    }

    @Test
    void oneShotSeesEveryMessage() {
        List<byte[]> messages = allMessages();
        List<Frame> frames = feed(concat(messages), new int[] {concat(messages).length}, null);
        assertEquals(expectedFrames(messages), frames);
    }

    @Test
    void byteByByteSameAsOneShot() {
        byte[] stream = concat(allMessages());
        int[] cuts = new int[stream.length];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        assertEquals(expectedFrames(allMessages()), feed(stream, cuts, null));
    }

    @Test
    void randomSplitsSameAsOneShot() {
        List<byte[]> messages = allMessages();
        byte[] stream = concat(messages);
        List<Frame> expected = expectedFrames(messages);
        for (int seed = 0; seed < 200; seed++) {
            Random r = new Random(seed);
            List<Integer> cuts = new ArrayList<>();
            int at = 0;
            while (at < stream.length) {
                int step = switch (r.nextInt(4)) {
                    case 0 -> 1 + r.nextInt(4);
                    case 1 -> 1 + r.nextInt(40);
                    case 2 -> 1 + r.nextInt(1000);
                    default -> 1 + r.nextInt(20_000);
                };
                at = Math.min(stream.length, at + step);
                cuts.add(at);
            }
            int[] c = cuts.stream().mapToInt(Integer::intValue).toArray();
            assertEquals(expected, feed(stream, c, seed % 2 == 0 ? null : new Random(seed)), "seed " + seed);
        }
    }

    @Test
    void typedScannerFromTheStart() {
        byte[] a = typed('Z', body().i8('I'));
        byte[] b = typed('C', body().str("SELECT 1"));
        FrameScanner scanner = new FrameScanner("server", true, MAX);
        Collector c = new Collector(scanner, null);
        try {
            scanner.add(alloc, alloc.of(concat(List.of(a, b)), 0, a.length + b.length));
            c.drain();
        } finally {
            scanner.release();
        }
        assertEquals(List.of(new Frame((byte) 'Z', a), new Frame((byte) 'C', b)), c.frames);
    }

    // ---- length checks ----

    private ProtocolException rejects(boolean typed, int max, byte[] bytes) {
        FrameScanner scanner = new FrameScanner("client", typed, max);
        List<Frame> seen = new ArrayList<>();
        try {
            scanner.add(alloc, alloc.of(bytes, 0, bytes.length));
            ProtocolException e = assertThrows(ProtocolException.class, () -> scanner.scan((t, buf, s, l) -> {
                seen.add(new Frame(t, new byte[0]));
                return true;
            }));
            assertTrue(seen.isEmpty(), "no frame visited before the bad length: " + seen);
            assertEquals(ProtocolException.PROTOCOL_VIOLATION, e.sqlState());
            return e;
        } finally {
            scanner.release();
        }
    }

    @Test
    void typedLengthBelowFourIsRejected() {
        for (int len : new int[] {3, 0, -1, Integer.MIN_VALUE}) {
            ProtocolException e = rejects(true, MAX, body().i8('Q').i32(len).toBytes());
            assertTrue(e.getMessage().contains(String.valueOf(len)), e.getMessage());
        }
    }

    @Test
    void typedLengthAboveLimitIsRejectedFromTheHeaderAlone() {
        // only the 5 header bytes: the scanner must not wait for 5000 bytes it would refuse anyway
        ProtocolException e = rejects(true, 1000, body().i8('D').i32(5000).toBytes());
        assertTrue(e.getMessage().contains("5000"), "names the length: " + e.getMessage());
        assertTrue(e.getMessage().contains("1000"), "names the limit: " + e.getMessage());
        assertTrue(e.getMessage().contains("'D'"), "names the message type: " + e.getMessage());
        assertTrue(e.getMessage().contains("client"), "names the peer: " + e.getMessage());
    }

    @Test
    void typedLengthAtTheLimitIsAccepted() {
        byte[] msg = typed('d', body().raw(new byte[996]));
        assertEquals(1001, msg.length);
        FrameScanner scanner = new FrameScanner("client", true, 1000);
        List<Frame> seen = new ArrayList<>();
        try {
            scanner.add(alloc, alloc.of(msg, 0, 5));
            scanner.scan((t, buf, s, l) -> seen.add(new Frame(t, new byte[l])));
            assertTrue(seen.isEmpty());
            assertTrue(scanner.hasBufferedBytes());
            scanner.add(alloc, alloc.of(msg, 5, msg.length));
            scanner.scan((t, buf, s, l) -> seen.add(new Frame(t, new byte[l])));
            assertEquals(List.of(new Frame((byte) 'd', new byte[1001])), seen);
        } finally {
            scanner.release();
        }
    }

    @Test
    void startupPacketAboveTenThousandIsRejected() {
        ProtocolException e = rejects(false, MAX, body().i32(10_001).i32(StartupPacket.PROTOCOL_3_0).toBytes());
        assertTrue(e.getMessage().contains("10001"), e.getMessage());
        assertTrue(e.getMessage().contains("10000"), e.getMessage());
        // the startup limit does not depend on the typed-message limit
        rejects(false, Integer.MAX_VALUE, body().i32(1 << 30).toBytes());
    }

    @Test
    void startupPacketLengthBelowFourIsRejected() {
        rejects(false, MAX, body().i32(3).toBytes());
        rejects(false, MAX, body().i32(-8).toBytes());
    }

    @Test
    void startupPacketOfTenThousandWaitsForItsBody() {
        FrameScanner scanner = new FrameScanner("client", false, MAX);
        try {
            scanner.add(alloc, alloc.of(body().i32(10_000).i32(StartupPacket.PROTOCOL_3_0).toBytes(), 0, 8));
            scanner.scan((t, buf, s, l) -> {
                throw new AssertionError("incomplete packet visited");
            });
            assertTrue(scanner.hasBufferedBytes());
        } finally {
            scanner.release();
        }
    }

    @Test
    void badLengthAfterGoodFramesIsReportedAfterThem() {
        byte[] good = typed('S');
        byte[] stream = concat(List.of(good, good, body().i8('Q').i32(2).toBytes()));
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        List<Frame> seen = new ArrayList<>();
        try {
            scanner.add(alloc, alloc.of(stream, 0, stream.length));
            assertThrows(ProtocolException.class, () -> scanner.scan((t, buf, s, l) -> seen.add(new Frame(t, new byte[l]))));
            assertEquals(2, seen.size());
        } finally {
            scanner.release();
        }
    }

    // ---- buffering ----

    @Test
    void partialFramesStayBuffered() {
        byte[] q = typed('Q', body().str("SELECT 42"));
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        List<Frame> seen = new ArrayList<>();
        FrameVisitor v = (t, buf, s, l) -> {
            byte[] b = new byte[l];
            buf.getBytes(s, b);
            return seen.add(new Frame(t, b));
        };
        try {
            assertFalse(scanner.hasBufferedBytes());
            assertNull(scanner.buffer());
            scanner.scan(v); // nothing buffered: no-op
            for (int cut : new int[] {1, 4, 5, 6, q.length - 1}) {
                FrameScanner s2 = new FrameScanner("client", true, MAX);
                try {
                    s2.add(alloc, alloc.of(q, 0, cut));
                    s2.scan(v);
                    s2.compact();
                    assertTrue(seen.isEmpty(), "visited with only " + cut + " bytes");
                    assertTrue(s2.hasBufferedBytes());
                    assertEquals(cut, s2.buffer().readableBytes());
                    s2.add(alloc, alloc.of(q, cut, q.length));
                    s2.scan(v);
                    s2.compact();
                    assertEquals(List.of(new Frame((byte) 'Q', q)), seen);
                    assertFalse(s2.hasBufferedBytes());
                    seen.clear();
                } finally {
                    s2.release();
                }
            }
        } finally {
            scanner.release();
        }
    }

    @Test
    void stoppingLeavesTheRestBufferedForTheNextScan() {
        byte[] a = typed('P', body().str("").str("SELECT 1").i16(0));
        byte[] b = typed('S');
        byte[] stream = concat(List.of(a, b));
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        List<Byte> seen = new ArrayList<>();
        try {
            scanner.add(alloc, alloc.of(stream, 0, stream.length));
            scanner.scan((t, buf, s, l) -> {
                seen.add(t);
                return false;
            });
            scanner.compact();
            assertEquals(List.of((byte) 'P'), seen);
            assertTrue(scanner.hasBufferedBytes());
            assertEquals(b.length, scanner.buffer().readableBytes());
            scanner.scan((t, buf, s, l) -> seen.add(t));
            scanner.compact();
            assertEquals(List.of((byte) 'P', (byte) 'S'), seen);
            assertFalse(scanner.hasBufferedBytes());
        } finally {
            scanner.release();
        }
    }

    @Test
    void compactFreesAFullyConsumedBuffer() {
        byte[] msg = typed('Z', body().i8('I'));
        FrameScanner scanner = new FrameScanner("server", true, MAX);
        ByteBuf in = alloc.of(msg, 0, msg.length);
        scanner.add(alloc, in);
        assertNotNull(scanner.buffer());
        scanner.scan((t, buf, s, l) -> true);
        assertFalse(scanner.hasBufferedBytes());
        assertEquals(1, in.refCnt(), "not freed before compact()");
        scanner.compact();
        assertEquals(0, in.refCnt(), "compact() released the consumed buffer");
        assertNull(scanner.buffer());
        scanner.release(); // nothing left: harmless
    }

    @Test
    void compactDiscardsConsumedBytesOfALargeBuffer() {
        byte[] big = typed('d', body().raw(new byte[70_000]));
        byte[] next = typed('C', body().str("COPY 1"));
        byte[] stream = concat(List.of(big, next));
        int cut = big.length + 3;
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        List<Frame> seen = new ArrayList<>();
        FrameVisitor v = (t, buf, s, l) -> {
            byte[] b = new byte[l];
            buf.getBytes(s, b);
            return seen.add(new Frame(t, b));
        };
        try {
            scanner.add(alloc, alloc.of(stream, 0, cut));
            scanner.scan(v);
            scanner.compact();
            assertEquals(1, seen.size());
            assertEquals(3, scanner.buffer().readableBytes());
            assertTrue(scanner.buffer().readerIndex() < 64 * 1024,
                    "the 70 kB consumed were discarded, reader index " + scanner.buffer().readerIndex());
            scanner.add(alloc, alloc.of(stream, cut, stream.length));
            scanner.scan(v);
            scanner.compact();
            assertEquals(List.of(new Frame((byte) 'd', big), new Frame((byte) 'C', next)), seen);
        } finally {
            scanner.release();
        }
    }

    /**
     * The documented way to hand frames on is a retained slice of {@link FrameScanner#buffer()} (ClientHandler and
     * BackendHandler do so, then call compact() before the slice is consumed, and the relays write such slices to
     * another channel asynchronously). compact() must therefore never move bytes that a retained slice still views.
     */
    @Test
    void compactKeepsRetainedSlicesIntact() {
        byte[] big = typed('d', body().raw(filled(70_000, (byte) 'x')));
        byte[] next = typed('d', body().raw(filled(100, (byte) 'y')));
        byte[] stream = concat(List.of(big, next));
        int cut = big.length + 50; // the second frame is still partial
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        ByteBuf slice = null;
        try {
            scanner.add(alloc, alloc.of(stream, 0, cut));
            ByteBuf buf = scanner.buffer();
            int from = buf.readerIndex();
            int[] end = {from};
            scanner.scan((t, b, s, l) -> {
                end[0] = s + l;
                return true;
            });
            assertEquals(from + big.length, end[0]);
            slice = buf.retainedSlice(from, end[0] - from);
            scanner.compact();
            byte[] got = new byte[slice.readableBytes()];
            slice.getBytes(slice.readerIndex(), got);
            assertArrayEquals(big, got, "compact() overwrote bytes still viewed by a retained slice");
        } finally {
            if (slice != null) {
                slice.release();
            }
            scanner.release();
        }
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }

    @Test
    void releaseFreesBufferedBytes() {
        byte[] partial = body().i8('Q').i32(100).raw("SELE").toBytes();
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        ByteBuf in = alloc.of(partial, 0, partial.length);
        scanner.add(alloc, in);
        scanner.scan((t, buf, s, l) -> true);
        assertTrue(scanner.hasBufferedBytes());
        scanner.release();
        assertEquals(0, in.refCnt());
        assertFalse(scanner.hasBufferedBytes());
        assertNull(scanner.buffer());
        scanner.release(); // idempotent
    }

    @Test
    void addTakesOwnershipOfEveryChunk() {
        byte[] msg = typed('Q', body().str("SELECT 1"));
        FrameScanner scanner = new FrameScanner("client", true, MAX);
        List<ByteBuf> chunks = new ArrayList<>();
        for (int i = 0; i < msg.length; i++) {
            ByteBuf c = alloc.of(msg, i, i + 1);
            chunks.add(c);
            scanner.add(alloc, c);
        }
        scanner.release();
        for (ByteBuf c : chunks) {
            assertEquals(0, c.refCnt());
        }
    }
}

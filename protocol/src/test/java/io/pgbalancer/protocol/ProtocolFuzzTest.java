// purpose: fuzzes the frame scanner, startup packets, message-name readers and ErrorResponse fields with corrupted input
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.fuzz.Frontend;
import io.pgbalancer.fuzz.Fuzz;
import io.pgbalancer.fuzz.Msg;
import io.pgbalancer.fuzz.Mutate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The contract of every parser here: it returns, or throws {@link ProtocolException}; never another exception, never a
 * read outside the bytes it was given (its answer does not depend on the bytes around the message), never a buffer
 * left retained.
 */
@Tag("fuzz")
class ProtocolFuzzTest {

    // ---- FrameScanner

    /** Where the reference reading of a stream found complete frames, and the offset of a bad length (or -1). */
    record Reference(List<int[]> frames, int badHeaderAt, int badHeaderEnd) {
    }

    /**
     * Frames as the scanner must find them: typed after the first untyped packet that is not an SSL or GSSENC request
     * (as ClientHandler switches it), a length outside [4, limit] is an error once its header is complete.
     */
    static Reference reference(byte[] b, boolean typed, int max) {
        List<int[]> frames = new ArrayList<>();
        int pos = 0;
        while (true) {
            int header = typed ? 5 : 4;
            if (b.length - pos < header) {
                return new Reference(frames, -1, -1);
            }
            int declared = getInt(b, typed ? pos + 1 : pos);
            int limit = typed ? max : FrameScanner.MAX_STARTUP_PACKET;
            if (declared < 4 || declared > limit) {
                return new Reference(frames, pos, pos + header);
            }
            int len = typed ? declared + 1 : declared;
            if (b.length - pos < len) {
                return new Reference(frames, -1, -1);
            }
            frames.add(new int[] {pos, len});
            if (!typed && switchesToTyped(b, pos, len)) {
                typed = true;
            }
            pos += len;
        }
    }

    static boolean switchesToTyped(byte[] b, int start, int len) {
        if (len < 8) {
            return true;
        }
        int code = getInt(b, start + 4);
        return code != StartupPacket.SSL_REQUEST && code != StartupPacket.GSSENC_REQUEST;
    }

    static int getInt(byte[] b, int at) {
        return Mutate.getInt(b, at);
    }

    /** A client's byte stream: startup packets then typed messages, or only typed ones; corrupted or random. */
    static byte[] clientStream(SplittableRandom r, boolean typed) {
        List<Msg> parts = new ArrayList<>();
        if (!typed) {
            if (r.nextInt(4) == 0) {
                parts.add(Frontend.sslRequest());
            }
            Msg startup = Frontend.startup(r, "app", "db");
            parts.add(r.nextInt(3) == 0 ? Msg.raw(Mutate.mutate(r, startup)) : startup);
        }
        if (r.nextInt(10) == 0) {
            parts.add(Msg.raw(Mutate.random(r, r.nextInt(64))));
        } else {
            parts.add(Msg.raw(Frontend.stream(r, r.nextInt(8), 0.15)));
        }
        return Msg.concat(parts).bytes();
    }

    @Test
    void frameScanner() {
        Fuzz.run("FrameScanner", 1.0, c -> {
            boolean typed = c.chance(0.5);
            int max = c.pick(64, 1024, 1 << 20);
            byte[] bytes = clientStream(c.random, typed);
            c.input("stream", bytes);
            Reference ref = reference(bytes, typed, max);
            FrameScanner scanner = new FrameScanner("client", typed, max);
            List<byte[]> seen = new ArrayList<>();
            int[] cuts = Mutate.splits(c.random, bytes.length);
            int fed = 0;
            boolean rejected = false;
            try {
                for (int i = 0; i <= cuts.length; i++) {
                    int to = i < cuts.length ? cuts[i] : bytes.length;
                    if (to > fed) {
                        scanner.add(c.alloc(), c.buffer(bytes, fed, to));
                        fed = to;
                    }
                    if (scanner.isTyped() && c.chance(0.3)) {
                        ByteBuf frames = scanner.takeCompleteFrames();
                        if (frames != null) {
                            try {
                                Frames.walk(frames, (type, buf, start, length) -> {
                                    seen.add(copy(buf, start, length));
                                    return true;
                                });
                            } finally {
                                frames.release();
                            }
                        }
                    } else {
                        boolean stopped;
                        do {
                            int before = seen.size();
                            boolean stopEarly = c.chance(0.2);
                            scanner.scan((type, buf, start, length) -> {
                                seen.add(copy(buf, start, length));
                                if (!scanner.isTyped() && switchesToTyped(seen.get(seen.size() - 1), 0, length)) {
                                    scanner.startTyped();
                                }
                                return !stopEarly;
                            });
                            stopped = stopEarly && seen.size() > before;
                        } while (stopped);
                        scanner.compact();
                    }
                }
            } catch (ProtocolException e) {
                rejected = true;
                assertTrue(ref.badHeaderAt() >= 0 && fed >= ref.badHeaderEnd(),
                        "rejected, but the reference finds no bad length in the bytes fed: " + e.getMessage());
            } finally {
                scanner.release();
            }
            if (!rejected) {
                assertEquals(-1, ref.badHeaderAt(), "a length outside the limits was not rejected");
            }
            // takeCompleteFrames consumes the complete frames before a bad length without handing them out: the
            // connection is closed for the bad one anyway (PostgreSQL would have run them first; nothing depends on it)
            if (rejected) {
                assertTrue(seen.size() <= ref.frames().size(), "more frames than the reference");
            } else {
                assertEquals(ref.frames().size(), seen.size(), "frames found");
            }
            for (int i = 0; i < seen.size(); i++) {
                int[] f = ref.frames().get(i);
                assertArrayEquals(Arrays.copyOfRange(bytes, f[0], f[0] + f[1]), seen.get(i), "frame " + i);
            }
            c.outcome(rejected ? "ProtocolException" : "ok");
        });
    }

    private static byte[] copy(ByteBuf buf, int start, int length) {
        byte[] out = new byte[length];
        buf.getBytes(start, out);
        return out;
    }

    // ---- reads of one message, with bytes around it that must not matter

    /** The message placed at a random offset of a tracked buffer, between random bytes (none after it, sometimes). */
    static ByteBuf surrounded(Fuzz.Case c, byte[] message, int before, byte[] noise) {
        ByteBuf buf = c.alloc().heapBuffer(before + message.length + noise.length);
        buf.writeBytes(noise, 0, Math.min(before, noise.length));
        buf.writeZero(before - Math.min(before, noise.length));
        buf.writeBytes(message);
        buf.writeBytes(noise);
        return buf;
    }

    /** Runs {@code read} on the message with two different surroundings: both must give the same outcome. */
    static <T> String sameInAnySurroundings(Fuzz.Case c, byte[] message, java.util.function.BiFunction<ByteBuf, Integer, T> read) {
        int before = c.between(0, 7);
        byte[] noiseA = Mutate.random(c.random, c.chance(0.3) ? 0 : c.between(1, 12));
        byte[] noiseB = new byte[c.chance(0.5) ? 0 : noiseA.length];
        for (int i = 0; i < noiseB.length; i++) {
            noiseB[i] = (byte) ~noiseA[i];
        }
        Object a = outcome(c, message, before, noiseA, read);
        Object b = outcome(c, message, before, noiseB, read);
        assertEquals(a, b, "the result depends on bytes outside the message");
        return a instanceof Rejected ? "ProtocolException" : "ok";
    }

    record Rejected(String message) {
    }

    private static <T> Object outcome(Fuzz.Case c, byte[] message, int before, byte[] noise,
                                      java.util.function.BiFunction<ByteBuf, Integer, T> read) {
        ByteBuf buf = surrounded(c, message, before, noise);
        try {
            return read.apply(buf, before);
        } catch (ProtocolException e) {
            return new Rejected(e.getMessage());
        } finally {
            assertEquals(1, buf.refCnt(), "a parser retained or released its input");
            buf.release();
        }
    }

    /** A packet the scanner would hand over: its length field matches its size, whatever the rest says. */
    static byte[] framed(byte[] body, boolean typed) {
        if (typed) {
            byte[] out = Arrays.copyOf(body, Math.max(body.length, 5));
            Mutate.setInt(out, 1, out.length - 1);
            return out;
        }
        byte[] out = Arrays.copyOf(body, Math.max(body.length, 4));
        Mutate.setInt(out, 0, out.length);
        return out;
    }

    @Test
    void startupPacket() {
        Fuzz.run("StartupPacket", 1.0, c -> {
            SplittableRandom r = c.random;
            Msg valid = switch (r.nextInt(8)) {
                case 0 -> Frontend.sslRequest();
                case 1 -> Frontend.cancelRequest(r.nextInt(), r.nextInt());
                case 2 -> Msg.untyped().raw(Mutate.random(r, r.nextInt(24))).done();
                default -> Frontend.startup(r, c.pick("app", "", "é", null), c.pick("db", "pgbalancer", null));
            };
            boolean corrupt = c.chance(0.7);
            byte[] packet = framed(corrupt ? Mutate.mutate(r, valid) : valid.bytes(), false);
            if (packet.length > FrameScanner.MAX_STARTUP_PACKET) {
                packet = Arrays.copyOf(packet, FrameScanner.MAX_STARTUP_PACKET);
                Mutate.setInt(packet, 0, packet.length);
            }
            c.input("packet", packet);
            byte[] p = packet;
            c.outcome(sameInAnySurroundings(c, packet, (buf, at) -> {
                StartupPacket sp = StartupPacket.parse(buf, at, p.length);
                if (sp.isStartup()) {
                    for (var e : sp.parameters().entrySet()) {
                        assertFalse(e.getKey().isEmpty(), "empty parameter name");
                        assertFalse(e.getKey().contains("\0") || e.getValue().contains("\0"), "NUL in a parameter");
                    }
                    if (!corrupt) {
                        assertEquals(parameters(valid.bytes()), sp.parameters().toString(), "parameters");
                    }
                }
                return sp;
            }));
        });
    }

    /** The parameters of a well-formed startup packet, the way a Map prints them (the _pq_ ones left out). */
    private static String parameters(byte[] packet) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        int at = 8;
        while (at < packet.length && packet[at] != 0) {
            int nameEnd = indexOf(packet, at);
            int valueEnd = indexOf(packet, nameEnd + 1);
            String name = new String(packet, at, nameEnd - at, StandardCharsets.UTF_8);
            if (!name.startsWith("_pq_.")) {
                m.put(name, new String(packet, nameEnd + 1, valueEnd - nameEnd - 1, StandardCharsets.UTF_8));
            }
            at = valueEnd + 1;
        }
        return m.toString();
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The name readers, called in the order the session calls them (FrontendRelay, Portals, TransactionRouter,
     * ProxyStatements): on a message whose frame length is right but whose body may be anything.
     */
    @Test
    void messageNames() {
        Fuzz.run("MessageNames", 1.0, c -> {
            SplittableRandom r = c.random;
            Msg valid = switch (r.nextInt(5)) {
                case 0 -> Frontend.parse(r);
                case 1 -> Frontend.bind(r);
                case 2 -> Frontend.describe(r);
                case 3 -> Frontend.close(r);
                default -> Frontend.execute(r);
            };
            byte[] message = framed(c.chance(0.8) ? Mutate.mutate(r, valid) : valid.bytes(), true);
            message[0] = valid.bytes()[0];
            c.input("message", message);
            int length = message.length;
            c.outcome(sameInAnySurroundings(c, message, (buf, at) -> readNames(buf, at, at + length)));
        });
    }

    /** What the session reads of a P/B/D/C/E message; every index must stay inside the message. */
    static String readNames(ByteBuf buf, int at, int end) {
        switch (buf.getByte(at)) {
            case 'P' -> {
                int afterName = MessageNames.parseStatementEnd(buf, at, end);
                within(at + 6, afterName, end);
                int textEnd = Wire.endOfCString(buf, afterName, end, "Parse query");
                within(afterName + 1, textEnd, end);
                return MessageNames.read(buf, at + 5, afterName) + "|" + MessageNames.isUnnamed(at + 5, afterName);
            }
            case 'B' -> {
                int afterPortal = MessageNames.bindPortalEnd(buf, at, end);
                within(at + 6, afterPortal, end);
                int afterName = MessageNames.bindStatementEnd(buf, afterPortal, end);
                within(afterPortal + 1, afterName, end);
                return MessageNames.read(buf, at + 5, afterPortal) + "|" + MessageNames.read(buf, afterPortal, afterName);
            }
            case 'D', 'C' -> {
                byte kind = MessageNames.targetKind(buf, at, end); // first, as FrontendRelay and TransactionRouter do
                int afterName = MessageNames.targetEnd(buf, at, end);
                within(at + 7, afterName, end);
                return (char) kind + MessageNames.read(buf, at + 6, afterName);
            }
            default -> {
                int afterPortal = MessageNames.executePortalEnd(buf, at, end);
                within(at + 6, afterPortal, end);
                return MessageNames.read(buf, at + 5, afterPortal);
            }
        }
    }

    private static void within(int min, int index, int end) {
        assertTrue(index >= min && index <= end, "index " + index + " outside [" + min + ", " + end + "]");
    }

    /** ErrorFields.parse reads any 'E' or 'N' message, missing fields as "", and nothing after it. */
    @Test
    void errorFields() {
        Fuzz.run("ErrorFields", 1.0, c -> {
            SplittableRandom r = c.random;
            Msg.Writer w = Msg.typed(c.pick('E', 'N'));
            int fields = r.nextInt(6);
            for (int i = 0; i < fields; i++) {
                w.raw((byte) (char) c.pick('S', 'V', 'C', 'M', 'D', 'H', 'P', 'q')).cstr(Frontend.text(r, Frontend.SQL));
            }
            Msg valid = w.raw((byte) 0).done();
            byte[] message = framed(c.chance(0.7) ? Mutate.mutate(r, valid) : valid.bytes(), true);
            c.input("message", message);
            c.outcome(sameInAnySurroundings(c, message, (buf, at) -> {
                ErrorFields f = ErrorFields.parse(buf, at, message.length);
                return Objects.requireNonNull(f.severity()) + "|" + Objects.requireNonNull(f.sqlState()) + "|"
                        + Objects.requireNonNull(f.message());
            }));
        });
    }

    /** Every ErrorResponse pgbalancer writes reads back with its severity, a 5-character SQLSTATE and its message. */
    @Test
    void serverErrorRoundTrip() {
        Fuzz.run("ServerMessages.error", 1.0, c -> {
            String severity = c.pick("FATAL", "ERROR", "PANIC");
            String state = c.pick("08P01", "28P01", "42501", "53300", "57P01", "0A000", "22023", "54000");
            String message = new String(Frontend.text(c.random, Frontend.SQL), StandardCharsets.UTF_8).replace("\0", "");
            String detail = c.chance(0.3) ? "detail" : null;
            ByteBuf buf = c.chance(0.5) ? ServerMessages.error(c.alloc(), severity, state, message)
                    : c.alloc().buffer();
            try {
                if (buf.writerIndex() == 0) {
                    ServerMessages.error(buf, severity, state, message, detail, null);
                }
                assertEquals('E', buf.getByte(0));
                assertEquals(buf.readableBytes() - 1, buf.getInt(1), "length field");
                ErrorFields f = ErrorFields.parse(buf, 0, buf.readableBytes());
                assertEquals(new ErrorFields(severity, state, message), f);
                assertEquals(5, f.sqlState().length());
            } finally {
                buf.release();
            }
        });
    }
}

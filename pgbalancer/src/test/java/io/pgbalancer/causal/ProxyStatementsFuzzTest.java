// purpose: fuzzes the answering of SET/SHOW/RESET pgbalancer.* in both protocols with corrupted message bodies
package io.pgbalancer.causal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.fuzz.Frontend;
import io.pgbalancer.fuzz.Fuzz;
import io.pgbalancer.fuzz.Msg;
import io.pgbalancer.fuzz.Mutate;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Chunks of complete messages (frame lengths right, as FrameScanner hands them out; bodies anything) go through
 * claims/answer the way ClientInput does between transactions. Contract: only ProtocolException escapes (ProxyError
 * becomes an ErrorResponse), every answer is well framed and every ErrorResponse carries a SQLSTATE.
 */
@Tag("fuzz")
class ProxyStatementsFuzzTest {
    private static final List<String> VIRTUAL = List.of("SHOW pgbalancer.commit_lsn", "SHOW pgbalancer.min_lsn",
            "SHOW pgbalancer.max_staleness", "SET pgbalancer.min_lsn = '0/16B3748'", "SET pgbalancer.min_lsn TO DEFAULT",
            "SET pgbalancer.max_staleness = '5s'", "RESET pgbalancer.max_staleness", "SET pgbalancer.min_lsn = 'x'",
            "SET LOCAL pgbalancer.max_staleness TO 1", "SHOW pgbalancer.nope", "RESET pgbalancer.commit_lsn",
            "SET pgbalancer.max_staleness = $1", "show PGBALANCER.min_lsn", "SHOW pgbalancer.min_lsn; SELECT 1",
            "SELECT 1");
    private static final List<String> NAMES = List.of("", "s1", "s2", "p1");

    /** One message of a virtual-statement cycle: the names and texts repeat so Binds find their Parses. */
    static Msg message(SplittableRandom r) {
        String name = Frontend.pick(r, NAMES);
        return switch (r.nextInt(9)) {
            case 0 -> Frontend.query(Frontend.pick(r, VIRTUAL));
            case 1, 2 -> {
                Msg.Writer w = Msg.typed('P').cstr(name).cstr(Frontend.pick(r, VIRTUAL));
                int n = r.nextInt(4) == 0 ? r.nextInt(3) : 0;
                w.count(n);
                for (int i = 0; i < n; i++) {
                    w.int32(r.nextBoolean() ? 25 : 0);
                }
                yield w.done();
            }
            case 3, 4 -> {
                Msg.Writer w = Msg.typed('B').cstr(Frontend.pick(r, NAMES)).cstr(name);
                int formats = r.nextInt(3);
                w.count(formats);
                for (int i = 0; i < formats; i++) {
                    w.int16(r.nextInt(3));
                }
                int params = r.nextInt(3);
                w.count(params);
                for (int i = 0; i < params; i++) {
                    byte[] v = "5s".getBytes(StandardCharsets.US_ASCII);
                    w.lengthField(v.length).raw(v);
                }
                int results = r.nextInt(3);
                w.count(results);
                for (int i = 0; i < results; i++) {
                    w.int16(r.nextInt(3));
                }
                yield w.done();
            }
            case 5 -> Msg.typed('D').raw((byte) (r.nextBoolean() ? 'S' : 'P')).cstr(name).done();
            case 6 -> Msg.typed('E').cstr(name).lengthField(r.nextInt(3)).done();
            case 7 -> Msg.typed('C').raw((byte) (r.nextBoolean() ? 'S' : 'P')).cstr(name).done();
            default -> Frontend.simple(r.nextBoolean() ? 'S' : 'H');
        };
    }

    /** A message whose body may be corrupted but whose frame length is right. */
    static byte[] framed(SplittableRandom r, Msg m) {
        if (r.nextInt(5) != 0) {
            return m.bytes();
        }
        byte[] b = Mutate.mutate(r, m);
        if (b.length < 5) {
            b = java.util.Arrays.copyOf(b, 5);
        }
        b[0] = m.bytes()[0];
        Mutate.setInt(b, 1, b.length - 1);
        return b;
    }

    @Test
    void claimsAndAnswers() {
        Fuzz.run("ProxyStatements", 1.0, c -> {
            SplittableRandom r = c.random;
            ProxyStatements proxy = new ProxyStatements(new ProxySettings(), () -> 0x16B3740L);
            int chunks = c.between(1, 4);
            String outcome = "ok";
            for (int k = 0; k < chunks; k++) {
                List<Msg> parts = new ArrayList<>();
                int n = c.between(1, 8);
                for (int i = 0; i < n; i++) {
                    parts.add(Msg.raw(framed(r, message(r))));
                }
                byte[] bytes = Msg.concat(parts).bytes();
                c.input("chunk", bytes);
                ByteBuf frames = c.buffer(bytes);
                List<ByteBuf> out = new ArrayList<>();
                try {
                    while (frames.isReadable()) {
                        if (proxy.claims(frames, frames.readerIndex())) {
                            proxy.answer(frames, c.alloc(), out, 'I');
                        } else {
                            frames.readerIndex(Frames.next(frames, frames.readerIndex())); // the server's to answer
                        }
                    }
                } catch (ProtocolException e) {
                    outcome = "ProtocolException";
                    break;
                } finally {
                    for (ByteBuf reply : out) {
                        checkReplies(reply);
                        reply.release();
                    }
                    frames.release();
                }
            }
            c.outcome(outcome);
        });
    }

    private static void checkReplies(ByteBuf reply) {
        int at = reply.readerIndex();
        int end = reply.writerIndex();
        while (at < end) {
            assertTrue(end - at >= 5, "truncated reply header");
            int len = reply.getInt(at + 1);
            assertTrue(len >= 4 && at + 1 + len <= end, "reply frame length " + len);
            if (reply.getByte(at) == 'E') {
                ErrorFields f = ErrorFields.parse(reply, at, len + 1);
                assertEquals(5, f.sqlState().length(), "SQLSTATE of " + f);
                assertTrue(!f.severity().isEmpty() && !f.message().isEmpty(), f.toString());
            }
            at += 1 + len;
        }
    }
}

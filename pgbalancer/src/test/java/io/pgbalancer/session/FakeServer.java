// purpose: a pooled backend connection on an EmbeddedChannel that answers like PostgreSQL, for fuzzing the session
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendListener;
import io.pgbalancer.pool.BackendPool;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Answers each message the proxy forwards the way PostgreSQL would, in order: ParseComplete, BindComplete, a
 * CommandComplete per Execute or Query, ReadyForQuery per Sync or Query with the transaction status of BEGIN/COMMIT;
 * after an error in the extended protocol it skips everything until Sync. With {@code errorRate} it fails a message
 * with an ErrorResponse (SQLSTATE included), and now and then it slips in a NoticeResponse. COPY is refused (0A000).
 *
 * <p>It also checks the proxy: every forwarded frame must have a valid length, and only message types a server
 * accepts after login may arrive; anything else is an AssertionError.
 */
public final class FakeServer {
    public final EmbeddedChannel channel;
    public final BackendConnection connection;
    private final ByteBufAllocator alloc;
    private boolean discarding;
    private char tx = 'I';
    private long bytesReceived;
    private boolean noSqlState;
    private final java.io.ByteArrayOutputStream recent = new java.io.ByteArrayOutputStream();

    public FakeServer(BackendPool pool, ByteBufAllocator alloc) throws Exception {
        this.alloc = alloc;
        this.channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                BackendConnection c = FakeServer.this.connection;
                c.markBroken();
                BackendListener owner = c.owner();
                if (owner != null) {
                    owner.executor().execute(() -> owner.onBackendClosed(c, null)); // as BackendHandler does
                }
            }
        });
        channel.config().setAllocator(alloc);
        this.connection = TestWire.connection(pool, channel);
    }

    /** Bytes the proxy sent to this server so far. */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** The last 64 kB the proxy sent to this server. */
    public byte[] received() {
        return recent.toByteArray();
    }

    /** Answers what the proxy sent since the last call; returns whether it had sent anything. */
    public boolean answer(SplittableRandom r, double errorRate) {
        channel.runPendingTasks();
        byte[] in = TestWire.drain(channel);
        if (in.length == 0) {
            return false;
        }
        bytesReceived += in.length;
        if (recent.size() > 64 * 1024) {
            recent.reset();
        }
        recent.writeBytes(in);
        TestWire.Msgs out = new TestWire.Msgs();
        int at = 0;
        while (at < in.length) {
            if (in.length - at < 5) {
                throw new AssertionError("the proxy sent a truncated frame header to the server");
            }
            char type = (char) in[at];
            int len = ((in[at + 1] & 0xFF) << 24) | ((in[at + 2] & 0xFF) << 16) | ((in[at + 3] & 0xFF) << 8)
                    | (in[at + 4] & 0xFF);
            if (len < 4 || len > in.length - at - 1) {
                throw new AssertionError("the proxy sent a frame '" + type + "' with length " + len + " to the server ("
                        + (in.length - at - 1) + " bytes left)");
            }
            if (r.nextInt(40) == 0) {
                out.msg('N', 'S', "NOTICE", 'V', "NOTICE", 'C', "00000", 'M', "fake notice", (char) 0);
            }
            onMessage(type, in, at + 5, at + 1 + len, out, r, errorRate);
            at += 1 + len;
        }
        deliver(out.buf);
        return true;
    }

    private void deliver(ByteBuf answers) {
        BackendListener owner = connection.owner();
        if (!answers.isReadable() || owner == null || !channel.isOpen()) {
            answers.release();
            return;
        }
        ByteBuf b = alloc.buffer(answers.readableBytes()).writeBytes(answers);
        answers.release();
        owner.onBackendData(connection, b);
    }

    private void onMessage(char type, byte[] in, int body, int end, TestWire.Msgs out, SplittableRandom r,
                           double errorRate) {
        if (discarding && type != 'S') {
            return;
        }
        boolean fail = r.nextDouble() < errorRate;
        noSqlState = fail && r.nextInt(8) == 0;
        switch (type) {
            case 'S' -> {
                discarding = false;
                out.ready(tx);
            }
            case 'Q' -> {
                String sql = cstring(in, body, end);
                if (sql == null) {
                    out.error("08P01", "invalid string in message").ready(tx);
                } else if (fail || (tx == 'E' && !endsTransaction(sql))) {
                    error(out, tx == 'E' ? "25P02" : "42601");
                    out.ready(tx);
                } else if (sql.isBlank()) {
                    out.msg('I').ready(tx);
                } else if (keyword(sql).equals("COPY")) {
                    out.error("0A000", "COPY is not supported by the fake server").ready(tx);
                } else {
                    out.msg('C', command(sql)).ready(tx);
                }
            }
            case 'P', 'B', 'E', 'D', 'C' -> {
                if (fail) {
                    error(out, "26000");
                    discarding = true;
                    return;
                }
                switch (type) {
                    case 'P' -> out.msg('1');
                    case 'B' -> out.msg('2');
                    case 'E' -> out.msg('C', "SELECT 0");
                    case 'C' -> out.msg('3');
                    default -> {
                        if (end > body && in[body] == 'S') {
                            out.msg('t', (short) 0).msg('n');
                        } else {
                            out.msg('n');
                        }
                    }
                }
            }
            case 'F' -> out.msg('V', -1).ready(tx);
            case 'H', 'd', 'c', 'f' -> {
                // Flush: answers go out at once anyway; COPY messages outside COPY are ignored, as PostgreSQL does
            }
            case 'X' -> channel.close();
            default -> throw new AssertionError("the proxy forwarded message type '" + type + "' (0x"
                    + Integer.toHexString(type) + "), which a server does not accept after login");
        }
    }

    /** The message of the errors this server sends without a SQLSTATE (a buggy or hostile server's). */
    public static final String NO_SQLSTATE = "fake error without a SQLSTATE";

    private void error(TestWire.Msgs out, String sqlState) {
        if (noSqlState) {
            out.msg('E', 'S', "ERROR", 'V', "ERROR", 'M', NO_SQLSTATE, (char) 0);
        } else {
            out.error(sqlState, "fake error");
        }
        if (tx == 'T') {
            tx = 'E';
        }
    }

    private boolean endsTransaction(String sql) {
        String k = keyword(sql);
        return k.equals("ROLLBACK") || k.equals("COMMIT") || k.equals("END") || k.equals("ABORT");
    }

    /** The tag, and the transaction status the statement leaves (BEGIN, COMMIT, ROLLBACK). */
    private String command(String sql) {
        String k = keyword(sql);
        switch (k) {
            case "BEGIN", "START" -> {
                tx = 'T';
                return "BEGIN";
            }
            case "COMMIT", "END", "ROLLBACK", "ABORT" -> {
                tx = 'I';
                return k.equals("END") ? "COMMIT" : k.equals("ABORT") ? "ROLLBACK" : k;
            }
            case "SELECT" -> {
                return "SELECT 0";
            }
            default -> {
                return k.isEmpty() ? "SELECT 0" : k;
            }
        }
    }

    private static String keyword(String sql) {
        String s = sql.strip();
        int i = 0;
        while (i < s.length() && Character.isLetter(s.charAt(i))) {
            i++;
        }
        return s.substring(0, i).toUpperCase(Locale.ROOT);
    }

    private static String cstring(byte[] b, int from, int end) {
        for (int i = from; i < end; i++) {
            if (b[i] == 0) {
                return new String(b, from, i - from, StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}

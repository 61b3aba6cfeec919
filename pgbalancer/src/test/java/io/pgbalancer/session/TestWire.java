// purpose: test helpers that play PostgreSQL on EmbeddedChannels: build messages, read back what was written
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendPool;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

public final class TestWire {
    private TestWire() {
    }

    /** A connection on {@code channel} (an EmbeddedChannel playing the server), idle in {@code pool}. */
    public static BackendConnection connection(BackendPool pool, Channel channel) throws Exception {
        Constructor<BackendConnection> ctor = BackendConnection.class.getDeclaredConstructor(BackendPool.class,
                Channel.class);
        ctor.setAccessible(true);
        BackendConnection c = ctor.newInstance(pool, channel);
        pool.release(c);
        return c;
    }

    public static final class Msgs {
        public final ByteBuf buf = Unpooled.buffer();
        private final List<Integer> starts = new ArrayList<>();

        /** Where message number {@code message} (0 for the first) starts in {@link #buf}. */
        public int offset(int message) {
            return starts.get(message);
        }

        public Msgs msg(char type, Object... parts) {
            starts.add(buf.writerIndex());
            buf.writeByte(type);
            int at = buf.writerIndex();
            buf.writeInt(0);
            for (Object p : parts) {
                if (p instanceof String s) {
                    buf.writeCharSequence(s, StandardCharsets.UTF_8);
                    buf.writeByte(0);
                } else if (p instanceof Character c) {
                    buf.writeByte(c);
                } else if (p instanceof Short s) {
                    buf.writeShort(s);
                } else if (p instanceof Integer i) {
                    buf.writeInt(i);
                }
            }
            buf.setInt(at, buf.writerIndex() - at);
            return this;
        }

        public Msgs parse(String name, String sql) {
            return msg('P', name, sql, (short) 0);
        }

        public Msgs bind(String statement) {
            return msg('B', "", statement, (short) 0, (short) 0, (short) 0);
        }

        public Msgs bind(String portal, String statement) {
            return msg('B', portal, statement, (short) 0, (short) 0, (short) 0);
        }

        public Msgs closeStatement(String name) {
            return msg('C', 'S', name);
        }

        public Msgs describePortal(String name) {
            return msg('D', 'P', name);
        }

        public Msgs describeStatement(String name) {
            return msg('D', 'S', name);
        }

        public Msgs execute() {
            return msg('E', "", 0);
        }

        public Msgs sync() {
            return msg('S');
        }

        public Msgs query(String sql) {
            return msg('Q', sql);
        }

        public Msgs flush() {
            return msg('H');
        }

        public Msgs rowDescription() {
            return msg('T', (short) 1, "c", 0, (short) 0, 23, (short) 4, -1, (short) 0);
        }

        public Msgs error(String sqlState, String message) {
            return msg('E', 'S', "ERROR", 'V', "ERROR", 'C', sqlState, 'M', message, (char) 0);
        }

        public Msgs ready(char status) {
            return msg('Z', status);
        }

        /** Appends {@code other}'s messages (one chunk, as when a server answers two queries in one read). */
        public Msgs concat(Msgs other) {
            for (int i = 0; i < other.starts.size(); i++) {
                starts.add(buf.writerIndex() + other.starts.get(i));
            }
            buf.writeBytes(other.buf);
            other.buf.release();
            return this;
        }
    }

    public record Msg(char type, byte[] body) {
        public String cstring(int from) {
            int end = from;
            while (body[end] != 0) {
                end++;
            }
            return new String(body, from, end - from, StandardCharsets.UTF_8);
        }
    }

    /** Everything written to {@code ch} so far, as one byte array; releases the buffers. */
    public static byte[] drain(EmbeddedChannel ch) {
        ch.runPendingTasks();
        ByteBuf all = Unpooled.buffer();
        try {
            for (Object o; (o = ch.readOutbound()) != null; ) {
                ByteBuf b = (ByteBuf) o;
                all.writeBytes(b);
                b.release();
            }
            byte[] out = new byte[all.readableBytes()];
            all.readBytes(out);
            return out;
        } finally {
            all.release();
        }
    }

    public static List<Msg> messages(byte[] bytes) {
        List<Msg> out = new ArrayList<>();
        int at = 0;
        while (at < bytes.length) {
            int len = ((bytes[at + 1] & 0xFF) << 24) | ((bytes[at + 2] & 0xFF) << 16) | ((bytes[at + 3] & 0xFF) << 8)
                    | (bytes[at + 4] & 0xFF);
            byte[] body = new byte[len - 4];
            System.arraycopy(bytes, at + 5, body, 0, body.length);
            out.add(new Msg((char) bytes[at], body));
            at += len + 1;
        }
        return out;
    }

    public static List<Character> types(List<Msg> msgs) {
        return msgs.stream().map(Msg::type).toList();
    }

    public static List<Character> types(byte[] bytes) {
        return messages(bytes).stream().map(Msg::type).toList();
    }

}

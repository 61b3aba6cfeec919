// purpose: a raw protocol v3 script (messages to send, what to wait for) for ProtocolDifferentialIT, and the frontend messages it sends.
package io.pgbalancer.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.Wire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A named list of steps played over one connection: send some messages, then read until N ReadyForQuery, or until
 * some message types have arrived (after a Flush, where no ReadyForQuery comes). {@code settings} scripts also
 * compare the ParameterStatus messages the client is sent.
 */
final class WireScript {
    final String name;
    final boolean settings;
    final List<Step> steps;

    private WireScript(String name, boolean settings, List<Step> steps) {
        this.name = name;
        this.settings = settings;
        this.steps = List.copyOf(steps);
    }

    @Override
    public String toString() {
        return name;
    }

    static Builder named(String name) {
        return new Builder(name);
    }

    sealed interface Step permits Send, AwaitReady, AwaitTypes {
        String describe();
    }

    record Send(List<Frontend> messages) implements Step {
        @Override
        public String describe() {
            return "send " + messages.stream().map(Frontend::describe).collect(Collectors.joining(", "));
        }
    }

    /** Reads until {@code count} ReadyForQuery messages have arrived. */
    record AwaitReady(int count) implements Step {
        @Override
        public String describe() {
            return "read until " + count + " ReadyForQuery";
        }
    }

    /**
     * Reads until these message types have arrived in this order (other messages may come in between), or until an
     * ErrorResponse that is not among them arrives. For Flush-only waits, where no ReadyForQuery comes.
     */
    record AwaitTypes(List<Character> types) implements Step {
        @Override
        public String describe() {
            return "read until " + types.stream().map(Backend::typeName).collect(Collectors.joining(", "))
                    + " (no ReadyForQuery expected)";
        }
    }

    static final class Builder {
        private final String name;
        private boolean settings;
        private final List<Step> steps = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        /** Also compare ParameterStatus messages (at login and after every step). */
        Builder settings() {
            settings = true;
            return this;
        }

        Builder send(Frontend... messages) {
            steps.add(new Send(List.of(messages)));
            return this;
        }

        Builder awaitReady(int count) {
            steps.add(new AwaitReady(count));
            return this;
        }

        Builder awaitTypes(char... types) {
            List<Character> list = new ArrayList<>();
            for (char t : types) {
                list.add(t);
            }
            steps.add(new AwaitTypes(list));
            return this;
        }

        /** Sends one simple Query and reads its ReadyForQuery. */
        Builder query(String sql) {
            return send(Frontend.query(sql)).awaitReady(1);
        }

        WireScript build() {
            return new WireScript(name, settings, steps);
        }
    }

    /** One frontend message: its bytes and a short description for transcripts. */
    record Frontend(byte[] bytes, String describe) {
        static Frontend query(String sql) {
            return build(b -> ClientMessages.query(b, sql), "Query(" + quote(sql) + ")");
        }

        static Frontend parse(String statement, String sql, int... paramTypes) {
            return build(b -> {
                int at = Wire.begin(b, 'P');
                Wire.writeCString(b, statement);
                Wire.writeCString(b, sql);
                b.writeShort(paramTypes.length);
                for (int oid : paramTypes) {
                    b.writeInt(oid);
                }
                Wire.end(b, at);
            }, "Parse(" + quote(statement) + ", " + quote(sql)
                    + (paramTypes.length == 0 ? "" : ", types " + Arrays.toString(paramTypes)) + ")");
        }

        /** Bind with text-format parameters ({@code null} for SQL NULL) and text-format results. */
        static Frontend bind(String portal, String statement, String... params) {
            return build(b -> {
                int at = Wire.begin(b, 'B');
                Wire.writeCString(b, portal);
                Wire.writeCString(b, statement);
                b.writeShort(0); // all parameters text
                b.writeShort(params.length);
                for (String p : params) {
                    if (p == null) {
                        b.writeInt(-1);
                    } else {
                        byte[] v = p.getBytes(StandardCharsets.UTF_8);
                        b.writeInt(v.length);
                        b.writeBytes(v);
                    }
                }
                b.writeShort(0); // all results text
                Wire.end(b, at);
            }, "Bind(" + quote(portal) + ", " + quote(statement)
                    + (params.length == 0 ? "" : ", " + Arrays.toString(params)) + ")");
        }

        static Frontend describeStatement(String statement) {
            return describe('S', statement);
        }

        static Frontend describePortal(String portal) {
            return describe('P', portal);
        }

        private static Frontend describe(char kind, String name) {
            return build(b -> {
                int at = Wire.begin(b, 'D');
                b.writeByte(kind);
                Wire.writeCString(b, name);
                Wire.end(b, at);
            }, "Describe(" + kind + " " + quote(name) + ")");
        }

        static Frontend execute(String portal, int maxRows) {
            return build(b -> {
                int at = Wire.begin(b, 'E');
                Wire.writeCString(b, portal);
                b.writeInt(maxRows);
                Wire.end(b, at);
            }, "Execute(" + quote(portal) + (maxRows == 0 ? "" : ", " + maxRows + " rows") + ")");
        }

        static Frontend closeStatement(String statement) {
            return close('S', statement);
        }

        static Frontend closePortal(String portal) {
            return close('P', portal);
        }

        private static Frontend close(char kind, String name) {
            return build(b -> {
                int at = Wire.begin(b, 'C');
                b.writeByte(kind);
                Wire.writeCString(b, name);
                Wire.end(b, at);
            }, "Close(" + kind + " " + quote(name) + ")");
        }

        static Frontend sync() {
            return build(b -> Wire.end(b, Wire.begin(b, 'S')), "Sync");
        }

        static Frontend flush() {
            return build(b -> Wire.end(b, Wire.begin(b, 'H')), "Flush");
        }

        static Frontend copyData(String text) {
            return build(b -> {
                int at = Wire.begin(b, 'd');
                b.writeBytes(text.getBytes(StandardCharsets.UTF_8));
                Wire.end(b, at);
            }, "CopyData(" + quote(text) + ")");
        }

        static Frontend copyDone() {
            return build(b -> Wire.end(b, Wire.begin(b, 'c')), "CopyDone");
        }

        static Frontend copyFail(String reason) {
            return build(b -> {
                int at = Wire.begin(b, 'f');
                Wire.writeCString(b, reason);
                Wire.end(b, at);
            }, "CopyFail(" + quote(reason) + ")");
        }

        static Frontend terminate() {
            return build(ClientMessages::terminate, "Terminate");
        }

        private static Frontend build(Consumer<ByteBuf> writer, String describe) {
            ByteBuf b = Unpooled.buffer(64);
            try {
                writer.accept(b);
                return new Frontend(ByteBufUtil.getBytes(b), describe);
            } finally {
                b.release();
            }
        }
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }

    /** Names of backend message types, for transcripts. */
    static final class Backend {
        private Backend() {
        }

        static String typeName(char type) {
            return switch (type) {
                case '1' -> "ParseComplete";
                case '2' -> "BindComplete";
                case '3' -> "CloseComplete";
                case 'A' -> "NotificationResponse";
                case 'C' -> "CommandComplete";
                case 'c' -> "CopyDone";
                case 'D' -> "DataRow";
                case 'd' -> "CopyData";
                case 'E' -> "ErrorResponse";
                case 'G' -> "CopyInResponse";
                case 'H' -> "CopyOutResponse";
                case 'I' -> "EmptyQueryResponse";
                case 'K' -> "BackendKeyData";
                case 'N' -> "NoticeResponse";
                case 'n' -> "NoData";
                case 'R' -> "Authentication";
                case 'S' -> "ParameterStatus";
                case 's' -> "PortalSuspended";
                case 'T' -> "RowDescription";
                case 't' -> "ParameterDescription";
                case 'V' -> "FunctionCallResponse";
                case 'v' -> "NegotiateProtocolVersion";
                case 'W' -> "CopyBothResponse";
                case 'Z' -> "ReadyForQuery";
                default -> "'" + type + "'";
            };
        }
    }
}

// purpose: plays a WireScript over a plain socket (startup, SCRAM/MD5/cleartext/trust login) and records what comes back as a Transcript.
package io.pgbalancer.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.auth.AuthenticationFailedException;
import io.pgbalancer.protocol.auth.Md5Password;
import io.pgbalancer.protocol.auth.ScramClientExchange;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** A bare-bones protocol 3.0 client that plays one script and writes down the answers. */
final class WirePlayer {
    private final String user;
    private final String password;
    private final Map<String, String> startupParameters;
    private final Duration stepTimeout;
    private final Duration quietPeriod;

    /**
     * @param startupParameters sent in the StartupMessage besides {@code user}
     * @param stepTimeout       how long one read step (and the login) may wait for its answers
     * @param quietPeriod       after the last step, how long to wait for answers nobody asked for
     */
    WirePlayer(String user, String password, Map<String, String> startupParameters, Duration stepTimeout,
            Duration quietPeriod) {
        this.user = user;
        this.password = password;
        this.startupParameters = startupParameters;
        this.stepTimeout = stepTimeout;
        this.quietPeriod = quietPeriod;
    }

    /** One backend message. */
    record Msg(char type, byte[] body) {
        ByteBuffer buf() {
            return ByteBuffer.wrap(body);
        }

        Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int at = 0;
            while (at < body.length && body[at] != 0) {
                int end = at + 1;
                while (end < body.length && body[end] != 0) {
                    end++;
                }
                f.put((char) body[at], new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8));
                at = end + 1;
            }
            return f;
        }

        String cstringAt(int at) {
            int end = at;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            return new String(body, at, end - at, StandardCharsets.UTF_8);
        }
    }

    /**
     * One compared line of a transcript: {@code key} is what must be equal on both sides; {@code note} is shown next
     * to it but not compared (an error's message text).
     */
    record Line(String key, String note) {
        String display() {
            return note == null || note.isEmpty() ? key : key + "  -- " + note;
        }
    }

    /**
     * What one run received. Slot 0 is the login, slots 1..n the script's steps (send steps stay empty), slot n+1
     * whatever arrived after the last step. A run that could not finish records where and why it stopped.
     */
    static final class Transcript {
        final String target;
        final List<List<Line>> slots = new ArrayList<>();
        int stoppedAt = -1;
        String stopReason;

        Transcript(String target, int steps) {
            this.target = target;
            for (int i = 0; i < steps + 2; i++) {
                slots.add(new ArrayList<>());
            }
        }

        boolean stopped() {
            return stopReason != null;
        }

        void stop(int slot, String reason) {
            stoppedAt = slot;
            stopReason = reason;
        }
    }

    /** Why a step could not go on: a timeout, a closed connection, a login failure. */
    private static final class StepFailed extends Exception {
        StepFailed(String message) {
            super(message);
        }
    }

    Transcript play(WireScript script, int port, String target) {
        Transcript t = new Transcript(target, script.steps.size());
        int slot = 0;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setTcpNoDelay(true);
            Conn c = new Conn(socket);
            List<Msg> parameterStatus = new ArrayList<>();
            login(c, parameterStatus);
            if (script.settings) {
                t.slots.get(0).addAll(parameterLines(parameterStatus));
            }
            for (slot = 1; slot <= script.steps.size(); slot++) {
                WireScript.Step step = script.steps.get(slot - 1);
                List<Line> lines = t.slots.get(slot);
                List<Msg> statuses = new ArrayList<>();
                long deadline = System.nanoTime() + stepTimeout.toNanos();
                if (step instanceof WireScript.Send send) {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    send.messages().forEach(m -> all.writeBytes(m.bytes()));
                    c.write(all.toByteArray());
                } else if (step instanceof WireScript.AwaitReady await) {
                    int seen = 0;
                    while (seen < await.count()) {
                        Msg m = c.read(deadline, () -> "still waiting for ReadyForQuery " + (seenSoFar(lines) + 1)
                                + " of " + await.count() + " (" + lines.size() + " messages so far)");
                        record(m, lines, statuses);
                        if (m.type() == 'Z') {
                            seen++;
                        }
                    }
                } else if (step instanceof WireScript.AwaitTypes await) {
                    int next = 0;
                    List<Character> wanted = await.types();
                    while (next < wanted.size()) {
                        int have = next;
                        Msg m = c.read(deadline, () -> "still waiting for " + wanted.subList(have, wanted.size())
                                .stream().map(WireScript.Backend::typeName).collect(Collectors.joining(", ")));
                        record(m, lines, statuses);
                        if (m.type() == wanted.get(next)) {
                            next++;
                        } else if (m.type() == 'E') {
                            break; // an error instead: the transcripts will show it; no point in waiting
                        }
                    }
                }
                if (script.settings) {
                    lines.addAll(parameterLines(statuses));
                }
            }
            // Nothing more may arrive: anything that does is recorded in the last slot and compared too.
            List<Line> extra = t.slots.get(slot);
            List<Msg> statuses = new ArrayList<>();
            long deadline = System.nanoTime() + quietPeriod.toNanos();
            while (true) {
                Msg m = c.poll(deadline);
                if (m == null) {
                    break;
                }
                record(m, extra, statuses);
            }
            if (script.settings) {
                extra.addAll(parameterLines(statuses));
            }
            c.write(WireScript.Frontend.terminate().bytes());
        } catch (StepFailed e) {
            t.stop(slot, e.getMessage());
        } catch (IOException e) {
            t.stop(slot, e.toString());
        }
        return t;
    }

    private static long seenSoFar(List<Line> lines) {
        return lines.stream().filter(l -> l.key().startsWith("ReadyForQuery")).count();
    }

    private static void record(Msg m, List<Line> lines, List<Msg> statuses) {
        switch (m.type()) {
            case 'S' -> statuses.add(m);
            case 'N', 'A', 'K' -> {
                // asynchronous or per-server: not compared
            }
            default -> lines.add(describe(m));
        }
    }

    /** ParameterStatus messages of one step, sorted so that their order among other messages does not matter. */
    private static List<Line> parameterLines(List<Msg> statuses) {
        return statuses.stream()
                .map(m -> {
                    String name = m.cstringAt(0);
                    String value = m.cstringAt(name.getBytes(StandardCharsets.UTF_8).length + 1);
                    return new Line("ParameterStatus " + name + "=" + value, null);
                })
                .sorted((a, b) -> a.key().compareTo(b.key()))
                .collect(Collectors.toList());
    }

    static Line describe(Msg m) {
        String name = WireScript.Backend.typeName(m.type());
        ByteBuffer b = m.buf();
        return switch (m.type()) {
            case 'Z' -> new Line(name + " " + (char) m.body()[0], null);
            case 'C' -> new Line(name + " \"" + m.cstringAt(0) + "\"", null);
            case 'E' -> {
                Map<Character, String> f = m.fields();
                String severity = f.getOrDefault('V', f.get('S'));
                yield new Line(name + " " + severity + " " + f.get('C'), f.get('M'));
            }
            case 'T' -> {
                int n = b.getShort();
                List<String> cols = new ArrayList<>();
                int at = 2;
                for (int i = 0; i < n; i++) {
                    String col = m.cstringAt(at);
                    at += col.getBytes(StandardCharsets.UTF_8).length + 1;
                    int typeOid = ByteBuffer.wrap(m.body(), at + 6, 4).getInt();
                    short format = ByteBuffer.wrap(m.body(), at + 16, 2).getShort();
                    cols.add(col + ":" + typeOid + (format == 0 ? "" : "/binary"));
                    at += 18;
                }
                yield new Line(name + " " + cols, null);
            }
            case 't' -> {
                int n = b.getShort();
                int[] oids = new int[n];
                for (int i = 0; i < n; i++) {
                    oids[i] = b.getInt();
                }
                yield new Line(name + " " + Arrays.toString(oids), null);
            }
            case 'D' -> {
                int n = b.getShort();
                List<String> values = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int len = b.getInt();
                    if (len < 0) {
                        values.add("NULL");
                    } else {
                        values.add(WireScript.quote(new String(m.body(), b.position(), len, StandardCharsets.UTF_8)));
                        b.position(b.position() + len);
                    }
                }
                yield new Line(name + " " + values, null);
            }
            case 'd' -> new Line(name + " " + WireScript.quote(new String(m.body(), StandardCharsets.UTF_8)), null);
            case 'G', 'H', 'W' -> {
                int format = b.get();
                int columns = b.getShort();
                yield new Line(name + " " + (format == 0 ? "text" : "binary") + ", " + columns + " columns", null);
            }
            default -> new Line(m.body().length == 0 ? name : name + " (" + m.body().length + " bytes)", null);
        };
    }

    // ---------------------------------------------------------------- login

    private void login(Conn c, List<Msg> parameterStatus) throws IOException, StepFailed {
        long deadline = System.nanoTime() + stepTimeout.toNanos();
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.putAll(startupParameters);
        c.write(bytes(ClientMessages.startup(ByteBufAllocator.DEFAULT, params)));
        ScramClientExchange scram = null;
        while (true) {
            Msg m = c.read(deadline, () -> "login did not finish");
            switch (m.type()) {
                case 'R' -> {
                    int code = m.buf().getInt();
                    byte[] data = Arrays.copyOfRange(m.body(), 4, m.body().length);
                    try {
                        switch (code) {
                            case 0 -> {
                                if (scram != null && !scram.isComplete()) {
                                    throw new StepFailed("AuthenticationOk before the SCRAM exchange completed");
                                }
                            }
                            case 3 -> c.write(bytes(ClientMessages.password(ByteBufAllocator.DEFAULT, password)));
                            case 5 -> c.write(bytes(ClientMessages.password(ByteBufAllocator.DEFAULT,
                                    Md5Password.encode(user, password, data))));
                            case 10 -> {
                                List<String> mechanisms = new ArrayList<>();
                                for (int at = 0; at < data.length && data[at] != 0; ) {
                                    int end = at;
                                    while (data[end] != 0) {
                                        end++;
                                    }
                                    mechanisms.add(new String(data, at, end - at, StandardCharsets.UTF_8));
                                    at = end + 1;
                                }
                                scram = new ScramClientExchange(password, mechanisms);
                                c.write(bytes(ClientMessages.saslInitialResponse(ByteBufAllocator.DEFAULT,
                                        scram.mechanism(), scram.clientFirst())));
                            }
                            case 11 -> c.write(bytes(ClientMessages.saslResponse(ByteBufAllocator.DEFAULT,
                                    scram.clientFinal(data))));
                            case 12 -> scram.verifyServerFinal(data);
                            default -> throw new StepFailed("unsupported authentication request " + code);
                        }
                    } catch (AuthenticationFailedException e) {
                        throw new StepFailed("login failed: " + e.getMessage());
                    }
                }
                case 'S' -> parameterStatus.add(m);
                case 'K', 'N' -> {
                }
                case 'E' -> throw new StepFailed("login failed: " + describe(m).display());
                case 'Z' -> {
                    return;
                }
                default -> throw new StepFailed("unexpected message during login: " + describe(m).display());
            }
        }
    }

    private static byte[] bytes(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    // ---------------------------------------------------------------- socket

    private interface Waiting {
        String what();
    }

    private final class Conn {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
            this.out = socket.getOutputStream();
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** The next message; fails the step when none arrives before the deadline or the server closes. */
        Msg read(long deadline, Waiting waiting) throws IOException, StepFailed {
            Msg m;
            try {
                m = next(deadline);
            } catch (SocketTimeoutException e) {
                throw new StepFailed("no answer within " + stepTimeout.toSeconds() + " s: " + waiting.what());
            }
            if (m == null) {
                throw new StepFailed("connection closed by the server: " + waiting.what());
            }
            return m;
        }

        /** The next message, or null when nothing arrives before the deadline; fails on a closed connection. */
        Msg poll(long deadline) throws IOException, StepFailed {
            try {
                Msg m = next(deadline);
                if (m == null) {
                    throw new StepFailed("connection closed by the server after the last step");
                }
                return m;
            } catch (SocketTimeoutException e) {
                return null;
            }
        }

        /** Null at EOF or reset. */
        private Msg next(long deadline) throws IOException, StepFailed {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            int type;
            try {
                type = in.read();
            } catch (SocketException e) {
                return null;
            }
            if (type < 0) {
                return null;
            }
            socket.setSoTimeout((int) stepTimeout.toMillis());
            try {
                int len = in.readInt();
                if (len < 4 || len > 64 * 1024 * 1024) {
                    throw new StepFailed("message '" + (char) type + "' with impossible length " + len);
                }
                byte[] body = new byte[len - 4];
                in.readFully(body);
                return new Msg((char) type, body);
            } catch (SocketTimeoutException | EOFException e) {
                throw new StepFailed("the server stopped in the middle of a '" + (char) type + "' message: " + e);
            }
        }
    }
}

// Backend → client: forwards answers in runs, hides answers to the proxy's own messages, inserts its fake ones.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class BackendRelay extends FrameRelay {
    private static final Logger log = LoggerFactory.getLogger(BackendRelay.class);

    private final ClientSession s;
    private ErrorFields internalError;

    BackendRelay(ClientSession session) {
        this.s = session;
    }

    /** The replay window saw a real answer in this chunk: held preamble answers go out, then everything after. */
    private boolean answered;

    @Override
    protected boolean onFrame(byte type, ByteBuf buf, int at, int length) {
        if (s.tracker.headKind() == Expect.INTERNAL) {
            onInternalAnswer(type, buf, at, length);
            return true;
        }
        if (s.retryTarget != null) {
            onAnswer(type, buf, at, length); // keep the books, drop the answer: the read runs again elsewhere
            cut(at, length);
            if (type == 'Z' && s.tracker.isEmpty()) {
                s.retryReady = true;
            }
            return true;
        }
        if (s.replay.isOpen() && !answered && !ReadReplay.isPreamble(type) && !isBeginComplete(type, buf, at)) {
            if (type == 'E' && buf.getByte(at + 5) != 0) {
                ErrorFields e = ErrorFields.parse(buf, at, length);
                if (refusedByStandby(e)) {
                    s.retryTarget = io.pgbalancer.routing.Target.PRIMARY;
                    onAnswer(type, buf, at, length);
                    cut(at, length);
                    return true;
                }
                if ("FATAL".equals(e.severity()) || "PANIC".equals(e.severity())) {
                    cut(at, length); // the server is going away; its close re-runs the read elsewhere
                    s.backend.broken = true;
                    return true;
                }
            }
            answered = true;
        }
        onAnswer(type, buf, at, length);
        return true;
    }

    @Override
    protected void flush() {
        if (s.retryTarget != null) {
            out.discard();
            return;
        }
        if (answered) {
            answered = false;
            s.replay.commit(out);
        } else if (s.replay.holdBack(out)) {
            return;
        }
        if (!out.isEmpty()) {
            out.writeTo(s.client);
            if (!s.client.isWritable() && s.backend != null) {
                s.backend.channel().config().setAutoRead(false);
            }
        }
    }

    /**
     * The replica refused the statement because it is a standby: a write (25006), or serializable isolation, which
     * hot standbys do not offer (0A000). Either way the primary can run it.
     */
    private static boolean refusedByStandby(ErrorFields e) {
        return "25006".equals(e.sqlState())
                || ("0A000".equals(e.sqlState()) && e.message().contains("hot standby"));
    }

    private void onAnswer(byte type, ByteBuf buf, int at, int length) {
        ResponseTracker tracker = s.tracker;
        int head = tracker.headKind();
        switch (type) {
            case 'Z' -> {
                tracker.popThroughReadyForQuery();
                onReadyForQuery((char) buf.getByte(at + 5));
                emitFakesAt(at + length); // e.g. a pipelined Close's CloseComplete, first answer of the next cycle
                s.idleAtReadyForQuery = tracker.isEmpty();
                return;
            }
            case 'E' -> {
                onError(buf, at, length);
                if (head != 0 && !Expect.endsAtReadyForQuery(head)) {
                    // the failed message and everything up to Sync never happened on the server
                    tracker.skipToSync(name -> s.backend.prepared.remove((String) name));
                }
                return;
            }
            case 'S' -> {
                recordParameter(buf, at, length);
                return;
            }
            case 'C' -> {
                if (!s.pendingSets.isEmpty() && isRollback(buf, at)) {
                    s.pendingDoomed = true;
                }
            }
            default -> {
            }
        }
        if (head != 0 && Expect.completes(head, type)) {
            if (head == Expect.PARSE_HIDDEN) {
                cut(at, length);
            }
            tracker.pop();
            emitFakesAt(at + length);
        }
    }

    /** Fake answers whose turn has come are inserted right after the message at hand. */
    private void emitFakesAt(int position) {
        while (Expect.isFake(s.tracker.headKind())) {
            endRun(position);
            out.add(s.tracker.headKind() == Expect.FAKE_PARSE_COMPLETE ? ServerMessages.parseComplete(s.client.alloc())
                    : ServerMessages.closeComplete(s.client.alloc()));
            s.tracker.pop();
        }
    }

    private void onError(ByteBuf buf, int at, int length) {
        if (!s.pendingSets.isEmpty()) {
            s.pendingDoomed = true;
        }
        if (buf.getByte(at + 5) == 'S') {
            ErrorFields e = ErrorFields.parse(buf, at, length);
            if ("FATAL".equals(e.severity()) || "PANIC".equals(e.severity())) {
                s.backend.broken = true;
            }
        }
    }

    private void onReadyForQuery(char status) {
        s.txStatus = status;
        if (status == 'I' && !s.pendingSets.isEmpty()) {
            if (!s.pendingDoomed) {
                s.settings = s.settings.apply(s.pendingSets);
                s.backend.applied = s.settings;
            }
            s.pendingSets = java.util.List.of();
        }
        if (status == 'I') {
            s.pendingDoomed = false;
        }
    }

    /** Answers to a settings sync: hidden from the client, which already sees these values. */
    private void onInternalAnswer(byte type, ByteBuf buf, int at, int length) {
        cut(at, length);
        switch (type) {
            case 'S' -> storeParameter(buf, at, length);
            case 'E' -> internalError = ErrorFields.parse(buf, at, length);
            case 'Z' -> {
                s.tracker.popThroughReadyForQuery();
                s.idleAtReadyForQuery = s.tracker.isEmpty();
                ErrorFields error = internalError;
                internalError = null;
                if (error != null) {
                    s.backend.broken = true;
                    s.backend.applied = null;
                    endRun(at + length);
                    out.writeTo(s.client);
                    s.terminate(error.sqlState(), error.message());
                    return;
                }
                if (!s.welcomed) {
                    endRun(at + length);
                    out.writeTo(s.client);
                    s.welcome();
                }
                emitFakesAt(at + length);
            }
            default -> {
            }
        }
    }

    private void recordParameter(ByteBuf buf, int at, int length) {
        storeParameter(buf, at, length);
    }

    private void storeParameter(ByteBuf buf, int at, int length) {
        int end = at + length;
        int afterName = Wire.endOfCString(buf, at + 5, end, "ParameterStatus");
        String name = buf.toString(at + 5, afterName - 1 - at - 5, java.nio.charset.StandardCharsets.UTF_8);
        s.backend.reported.put(name, Wire.readCString(buf, afterName, end, "ParameterStatus"));
        log.trace("{} reports {}", s.backend, name);
    }

    /** BEGIN's CommandComplete: nothing has run yet, so the transaction can still start over elsewhere. */
    private static boolean isBeginComplete(byte type, ByteBuf buf, int at) {
        return type == 'C' && buf.getInt(at + 1) == 10 && buf.getByte(at + 5) == 'B' && buf.getByte(at + 6) == 'E'
                && buf.getByte(at + 7) == 'G';
    }

    private static boolean isRollback(ByteBuf buf, int at) {
        return buf.getByte(at + 5) == 'R' && buf.getByte(at + 6) == 'O';
    }
}

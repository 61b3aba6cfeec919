// Backend → client: forwards answers in runs, hides answers to the proxy's own messages, inserts its fake ones.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.BackendMessage;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.sql.Classification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class BackendRelay extends FrameRelay {
    private static final Logger log = LoggerFactory.getLogger(BackendRelay.class);

    private final ClientSession s;
    private final BackendLease lease;
    private final ResponseTracker tracker;
    private ErrorFields internalError;
    private final CommitLearner commits;
    /**
     * Output that came before a ReadyForQuery held for a commit position, in order; made when a ReadyForQuery is
     * first held (causal reads learning a commit position), kept for the session's next ones.
     */
    private OutboundBatch beforeHeldReady;

    BackendRelay(ClientSession session) {
        this.s = session;
        this.lease = session.lease;
        this.tracker = session.lease.tracker();
        this.commits = session.commits;
    }

    /**
     * A backend was just attached: nothing the previous one said carries over (an error answering a hidden query of
     * a backend that then died would otherwise end the session at this backend's first ReadyForQuery).
     */
    void attached() {
        internalError = null;
    }

    /** Relays a chunk of complete backend messages to the client; the lease's state says what comes next. */
    void relay(ByteBuf chunk) {
        walk(chunk);
    }

    /** The replay window saw a real answer in this chunk: held preamble answers go out, then everything after. */
    private boolean answered;

    @Override
    public boolean onFrame(byte type, ByteBuf buf, int at, int length) {
        if (Expect.isInternal(tracker.headKind())) {
            onInternalAnswer(type, buf, at, length);
            return true;
        }
        if (lease.isRefused()) {
            onAnswer(type, buf, at, length); // keep the books, drop the answer: the read runs again elsewhere
            cut(at, length);
            return true;
        }
        BackendMessage m = BackendMessage.of(type);
        if (m == BackendMessage.ERROR_RESPONSE && tracker.isEmpty() && lease.state() == BackendLease.State.IDLE
                && !s.pinned && !s.services.sessionPooling()) {
            // Nothing is owed to the client and its transaction is over (the ReadyForQuery came in the same read):
            // the server is closing a connection the client no longer uses (pg_terminate_backend, shutdown). As for
            // an idle pooled connection, the backend is dropped and the client keeps its session. (A pinned or
            // session-pooled client loses its server session with it: it gets the server's own message.)
            log.warn("{} reported right after its client's transaction ended: {}", lease.backend(),
                    ErrorFields.parse(buf, at, length));
            cut(at, length);
            lease.backend().markBroken();
            return true;
        }
        if (lease.replay().isOpen() && !answered && !m.isPreamble() && !isBeginComplete(m, buf, at)
                && !isReadyAfterBegin(m, buf, at)) {
            if (m == BackendMessage.ERROR_RESPONSE && buf.getByte(at + 5) != 0) {
                ErrorFields e = ErrorFields.parse(buf, at, length);
                if (refusedByStandby(e)) {
                    lease.refuse(io.pgbalancer.routing.Target.PRIMARY);
                    onAnswer(type, buf, at, length);
                    cut(at, length);
                    return true;
                }
                if ("FATAL".equals(e.severity()) || "PANIC".equals(e.severity())) {
                    cut(at, length); // the server is going away; its close re-runs the read elsewhere
                    lease.backend().markBroken();
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
        if (lease.isRefused()) {
            out.discard();
            return;
        }
        if (answered) {
            answered = false;
            lease.replay().commit(out);
        } else if (lease.replay().holdBack(out)) {
            return;
        }
        if (commits.holding()) {
            if (beforeHeldReady == null) {
                beforeHeldReady = new OutboundBatch();
            }
            out.moveTo(beforeHeldReady); // goes out with the held ReadyForQuery: one wake-up for the client
            return;
        }
        if (beforeHeldReady != null && !beforeHeldReady.isEmpty()) {
            out.moveTo(beforeHeldReady);
            beforeHeldReady.moveTo(out);
        }
        if (!out.isEmpty()) {
            out.writeTo(s.client);
            if (!s.client.isWritable() && lease.isAttached()) {
                lease.backend().channel().config().setAutoRead(false);
            }
        }
    }

    /** The session ended: output held for a commit position is dropped. */
    void discardHeld() {
        if (beforeHeldReady != null) {
            beforeHeldReady.discard();
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
        BackendMessage m = BackendMessage.of(type);
        int head = tracker.headKind();
        switch (m) {
            case READY_FOR_QUERY -> {
                tracker.popThroughReadyForQuery();
                char status = (char) buf.getByte(at + 5);
                boolean held = onReadyForQuery(status, at, length);
                if (commits.holdsReadyForQuery(status, held)) {
                    cut(at, length); // goes out once the commit's position is known
                }
                emitFakesAt(at + length); // e.g. a pipelined Close's CloseComplete, first answer of the next cycle
                lease.readyForQuery(status);
                return;
            }
            case ERROR_RESPONSE -> {
                onError(buf, at, length);
                if (head != 0 && !Expect.endsAtReadyForQuery(head)) {
                    // the failed message and everything up to Sync never happened on the server
                    tracker.skipToSync();
                }
                return;
            }
            case PARAMETER_STATUS -> {
                if (storeParameter(buf, at, length)) {
                    cut(at, length); // RESET's report of the server default; the restore reports the client's value
                }
                return;
            }
            case COMMAND_COMPLETE -> {
                Object effects = tracker.headTag();
                if ((effects != null && (head == Expect.QUERY || head == Expect.EXECUTE)) || s.settings.watching()) {
                    s.settings.completed(effects instanceof Classification c ? c : null, head == Expect.QUERY,
                            isTag(buf, at, "ROLLBACK"), isTag(buf, at, "COMMIT"));
                }
            }
            default -> {
            }
        }
        if (head != 0 && Expect.completes(head, m)) {
            if (head == Expect.PARSE_HIDDEN) {
                cut(at, length);
            }
            tracker.pop();
            emitFakesAt(at + length);
        }
    }

    /** Fake answers whose turn has come are inserted right after the message at hand. */
    private void emitFakesAt(int position) {
        while (Expect.isFake(tracker.headKind())) {
            endRun(position);
            out.add(tracker.headKind() == Expect.FAKE_PARSE_COMPLETE ? ServerMessages.parseComplete(s.client.alloc())
                    : ServerMessages.closeComplete(s.client.alloc()));
            tracker.pop();
        }
    }

    private void onError(ByteBuf buf, int at, int length) {
        s.settings.failed();
        ErrorFields e = ErrorFields.parse(buf, at, length);
        if ("FATAL".equals(e.severity()) || "PANIC".equals(e.severity())) {
            lease.backend().markBroken();
        }
        String state = e.sqlState();
        s.services.events().listener().error(state != null && state.length() >= 2 ? state.substring(0, 2) : "??");
    }

    /**
     * The client's ReadyForQuery; it is held back (cut) while the client's settings are being restored. Returns
     * whether it was.
     */
    private boolean onReadyForQuery(char status, int at, int length) {
        String restore = s.settings.readyForQuery(status);
        if (status == 'I' && s.settings.settings() != lease.backend().settings()) {
            lease.backend().settings(s.settings.settings());
        }
        if (restore == null) {
            return false;
        }
        // A RESET left a startup parameter at the server's default. Put the client's value back before anything the
        // client sends next, and, when nothing else is owed, hold this ReadyForQuery until then: the client sees the
        // ParameterStatus it would see direct, before ReadyForQuery.
        boolean hold = tracker.isEmpty() || (tracker.size() == 1 && tracker.headKind() == Expect.COMMIT_LSN);
        if (hold) {
            cut(at, length);
        } else if (!s.input.segmentEnded()) {
            s.input.restoreAtSegmentEnd(restore); // not inside the client's pipeline, sent already: behind its end
            return false;
        }
        lease.sendHidden(restore, Expect.RESTORE, hold ? Character.valueOf(status) : null);
        return hold;
    }

    /** Answers to a settings sync: hidden from the client, which already sees these values (see Expect.RESTORE). */
    private void onInternalAnswer(byte type, ByteBuf buf, int at, int length) {
        BackendMessage m = BackendMessage.of(type);
        int kind = tracker.headKind();
        if (m == BackendMessage.PARAMETER_STATUS && tracker.headKind() == Expect.RESTORE) {
            storeParameter(buf, at, length); // left in the run: the client saw the server's default reported by
            return;                          // RESET, so it must see its own value come back
        }
        cut(at, length);
        switch (m) {
            case PARAMETER_STATUS -> storeParameter(buf, at, length);
            case DATA_ROW -> {
                if (kind == Expect.COMMIT_LSN) {
                    commits.onDataRow(buf, at);
                }
            }
            case ERROR_RESPONSE -> {
                if (kind == Expect.COMMIT_LSN) {
                    commits.failed(); // asked again (a client's late cancel can land on it)
                } else {
                    internalError = ErrorFields.parse(buf, at, length);
                }
            }
            case READY_FOR_QUERY -> {
                Character heldReadyForQuery = tracker.headTag() instanceof Character c ? c : null;
                tracker.popThroughReadyForQuery();
                char status = (char) buf.getByte(at + 5);
                lease.readyForQuery(status);
                if (kind == Expect.COMMIT_LSN) {
                    char h = commits.onAnswered(status);
                    heldReadyForQuery = h == 0 ? null : Character.valueOf(h);
                }
                lease.cancelIfDeferred(s.loop);
                ErrorFields error = internalError;
                internalError = null;
                if (error != null) {
                    lease.fail(error); // the session ends with it once this chunk is out
                    return;
                }
                if (!s.welcomed()) {
                    endRun(at + length);
                    out.writeTo(s.client);
                    s.welcome();
                }
                if (heldReadyForQuery != null) {
                    out.add(ServerMessages.readyForQuery(s.client.alloc(), heldReadyForQuery));
                }
                emitFakesAt(at + length);
            }
            default -> {
            }
        }
    }

    /** Records a ParameterStatus; returns true when the client must not see it (see SettingsLedger.hidesReport). */
    private boolean storeParameter(ByteBuf buf, int at, int length) {
        int end = at + length;
        int afterName = Wire.endOfCString(buf, at + 5, end, "ParameterStatus");
        String name = buf.toString(at + 5, afterName - 1 - at - 5, java.nio.charset.StandardCharsets.UTF_8);
        String value = Wire.readCString(buf, afterName, end, "ParameterStatus");
        lease.backend().report(name, value);
        log.trace("{} reports {}", lease.backend(), name);
        s.settings.reported(name, value);
        return s.settings.hidesReport(name);
    }

    /** BEGIN's CommandComplete: nothing has run yet, so the transaction can still start over elsewhere. */
    /**
     * A ReadyForQuery 'T' while the window is still open (nothing but a BEGIN's CommandComplete answered so far) with
     * more owed behind it: a simple-Query BEGIN with the transaction's first statements pipelined after it, as pgjdbc
     * 42.7.7+ sends BEGIN READ ONLY. It waits with the BEGIN's CommandComplete, so that a refusal of those statements
     * (serializable on a standby) still runs the transaction again on the primary unseen. A client that waits for the
     * BEGIN's answer before sending more has nothing owed behind it: its answer goes out at once.
     */
    private boolean isReadyAfterBegin(BackendMessage m, ByteBuf buf, int at) {
        return m == BackendMessage.READY_FOR_QUERY && buf.getByte(at + 5) == 'T' && tracker.size() > 1;
    }

    private static boolean isBeginComplete(BackendMessage m, ByteBuf buf, int at) {
        return m == BackendMessage.COMMAND_COMPLETE && buf.getInt(at + 1) == 10 && buf.getByte(at + 5) == 'B' && buf.getByte(at + 6) == 'E'
                && buf.getByte(at + 7) == 'G';
    }

    /** Whether CommandComplete at {@code at} carries exactly {@code tag}. */
    private static boolean isTag(ByteBuf buf, int at, String tag) {
        if (buf.getInt(at + 1) != 4 + tag.length() + 1) {
            return false;
        }
        for (int i = 0; i < tag.length(); i++) {
            if (buf.getByte(at + 5 + i) != tag.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}

// One checkout of a backend by a client: the backend, what it owes, the read's replay window, the retry, the status.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgbalancer.cancel.CancelForwarder;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendReset;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Target;

/**
 * Everything that lives between "a backend was attached to this client" and "it was released" sits here, behind one
 * {@link State}. The relays move it only through the named transitions below; the session reads the state after each
 * step and acts on it (release, keep, re-run the read elsewhere, end with an error). One instance per session is
 * re-armed at each checkout, so the per-transaction path allocates nothing. All methods run on the session's loop.
 */
final class BackendLease {
    enum State {
        /** No backend. */
        DETACHED,
        /** The last message was a ReadyForQuery 'I' that settled everything sent, and nothing was sent since: the
         * only point where the backend is clean (no pipeline, unnamed statement or portal, or pending skip). */
        IDLE,
        /** Settled at a ReadyForQuery 'T' or 'E': the open transaction keeps the backend. */
        IN_TRANSACTION,
        /** Answers are owed, or the backend answered without a ReadyForQuery (Flush). */
        BUSY,
        /** The replica refused the read as a write: its answers are dropped until it settles. */
        REFUSED,
        /** Refused and settled: the read must run again on {@link #retryTarget()}. */
        RETRY_DUE,
        /** A hidden settings query failed: the session ends with {@link #failure()}. */
        FAILED
    }

    private final Channel client;
    private final ResponseTracker tracker = new ResponseTracker();
    private final ReadReplay replay = new ReadReplay();
    private State state = State.DETACHED;
    private BackendConnection backend;
    private BackendNode node;
    /** Status of the last ReadyForQuery: 'I' idle, 'T' in transaction, 'E' failed transaction. */
    private char txStatus = 'I';
    /** The next client message starts a new cycle (the previous one was a Sync, Query or FunctionCall). */
    private boolean cycleBoundary;
    /** The last client message was a Flush: the client may be waiting for answers, with no Sync coming. */
    private boolean afterFlush;
    private Target retryTarget;
    /** Routed to the primary as a transaction that may write: its commits' positions are learned. */
    private boolean mayHaveWritten;
    private ErrorFields failure;
    /** The client asked to cancel while pgbalancer's own query ran; sent once the client's message runs. */
    private boolean cancelDeferred;
    /** When the first message of the running cycle was sent; 0 when none runs. */
    private long cycleStartNanos;
    /** A client message went to this backend since it was attached (the checkout's own cycle has begun). */
    private boolean relayed;
    private final SessionEvents events;

    BackendLease(Channel client, SessionEvents events) {
        this.client = client;
        this.events = events;
    }

    // --- what the lease is now

    State state() {
        return state;
    }

    boolean isAttached() {
        return state != State.DETACHED;
    }

    BackendConnection backend() {
        return backend;
    }

    ResponseTracker tracker() {
        return tracker;
    }

    ReadReplay replay() {
        return replay;
    }

    boolean onReplica() {
        return node != null && !node.isPrimary();
    }

    char txStatus() {
        return txStatus;
    }

    boolean atCycleBoundary() {
        return cycleBoundary;
    }

    /** Whether a client message went to this backend since it was attached. */
    boolean relayed() {
        return relayed;
    }

    /** Routed to the primary as a transaction that may write (not a read that fell back there). */
    boolean mayHaveWritten() {
        return mayHaveWritten;
    }

    boolean afterFlush() {
        return afterFlush;
    }

    /** Answered everything sent, and the last answer was a ReadyForQuery. */
    boolean isSettled() {
        return state == State.IDLE || state == State.IN_TRANSACTION;
    }

    /** Answers are being dropped because the read will run again elsewhere. */
    boolean isRefused() {
        return state == State.REFUSED || state == State.RETRY_DUE;
    }

    Target retryTarget() {
        return retryTarget;
    }

    ErrorFields failure() {
        return failure;
    }

    // --- named transitions

    /** A pooled connection (always clean) now serves this client; a replica read stays replayable for a while. */
    void attach(BackendConnection b, BackendNode n, boolean replayable, boolean writes) {
        mayHaveWritten = writes && n.isPrimary();
        backend = b;
        node = n;
        n.checkedOut();
        state = State.IDLE;
        txStatus = 'I';
        cycleBoundary = true;
        afterFlush = false;
        retryTarget = null;
        failure = null;
        cancelDeferred = false;
        cycleStartNanos = 0;
        relayed = false;
        if (replayable) {
            replay.open(client);
        }
    }

    /** Forgets the backend (the caller decides its fate) and gives back this client's share of its server. */
    BackendConnection detach() {
        BackendConnection b = backend;
        backend = null;
        replay.close();
        tracker.recycle(); // when nothing is owed: an idle client keeps no ring buffer
        if (node != null) {
            node.checkedIn();
            node = null;
        }
        state = State.DETACHED;
        return b;
    }

    /** A client message of {@code type} goes to the backend. */
    void sending(byte type) {
        relayed = true;
        if (cycleStartNanos == 0) {
            cycleStartNanos = System.nanoTime();
        }
        cycleBoundary = type == 'S' || type == 'Q' || type == 'F';
        afterFlush = type == 'H';
        if (!isRefused()) {
            state = State.BUSY;
        }
    }

    /** A ReadyForQuery arrived and the tracker has popped what it answers. */
    void readyForQuery(char status) {
        if (cycleStartNanos != 0 && node != null) {
            events.listener().cycle(node, System.nanoTime() - cycleStartNanos);
            cycleStartNanos = tracker.isEmpty() ? 0 : System.nanoTime(); // a pipelined cycle runs from here
        }
        txStatus = status;
        boolean settled = tracker.isEmpty();
        if (isRefused()) {
            state = settled ? State.RETRY_DUE : State.REFUSED;
        } else if (state != State.FAILED) {
            state = !settled ? State.BUSY : status == 'I' ? State.IDLE : State.IN_TRANSACTION;
        }
    }

    /** The replica refused the read (a write, or serializable isolation): it runs again on {@code target}. */
    void refuse(Target target) {
        retryTarget = target;
        state = State.REFUSED;
    }

    /** A hidden settings query failed: the backend is unusable and the session must end with {@code error}. */
    void fail(ErrorFields error) {
        failure = error;
        state = State.FAILED;
        backend.markBroken();
        backend.settings(null);
    }

    /** The backend died under a replayable read: forget what it owed, the read runs again elsewhere. */
    ByteBuf abandonForReplay() {
        ByteBuf again = replay.takeForReplay();
        tracker.clear();
        detach();
        return again;
    }

    // --- sending hidden work, ending the lease

    /** Brings the backend's settings to {@code wanted} with one hidden query whose answers the client never sees. */
    void syncSettings(SessionSettings wanted) {
        String sql = wanted.syncSql(backend.settings());
        if (sql != null) {
            backend.settings(wanted);
            sendHidden(sql, Expect.INTERNAL, null);
        }
    }

    /** A proxy-made simple query; {@code kind} is INTERNAL or RESTORE (see Expect), {@code tag} rides along. */
    void sendHidden(String sql, int kind, Object tag) {
        ByteBuf q = client.alloc().buffer(sql.length() + 8);
        ClientMessages.query(q, sql);
        sendHidden(q, kind, tag);
    }

    /** Proxy-made messages ending in a Sync or Query, answered as one entry of {@code kind} (see Expect). */
    void sendHidden(ByteBuf q, int kind, Object tag) {
        tracker.add(kind, tag);
        if (!isRefused()) {
            state = State.BUSY;
        }
        backend.channel().writeAndFlush(q, backend.channel().voidPromise());
    }

    /** After a hidden query's answer: a cancel the client sent meanwhile goes out now, if its message still runs. */
    void cancelIfDeferred(io.netty.channel.EventLoop loop) {
        if (cancelDeferred) {
            cancelDeferred = false;
            cancelRunning(loop);
        }
    }

    /** Gives a clean backend back to its pool (now, or once a cancel in flight for it has landed). */
    void release() {
        BackendConnection b = detach();
        if (b.mayReleaseNow()) {
            b.pool().release(b);
        }
    }

    /** The refused read settled: a clean replica goes back to its pool, anything else is closed. */
    void releaseAfterRefusal() {
        if (txStatus == 'I' && backend.mayReleaseNow()) {
            BackendConnection b = detach();
            b.pool().release(b);
        } else {
            BackendConnection b = detach();
            b.markBroken();
            b.channel().close();
        }
    }

    /**
     * The client went away. A clean backend goes back to the pool ({@code reset}: after DISCARD ALL, for pinned and
     * session-pooled clients); one mid-transaction or mid-pipeline is cancelled and closed, so the server rolls back.
     * Returns false when the backend was closed dirty.
     */
    boolean endForGoneClient(boolean reset) {
        boolean clean = state == State.IDLE && !backend.isBroken();
        boolean owed = !tracker.isEmpty();
        BackendConnection b = detach();
        tracker.clear();
        tracker.recycle();
        if (clean) {
            if (!b.mayReleaseNow()) {
                if (reset) {
                    // no DISCARD ALL while a cancel may still land; the cancel's end releases it, which closes it
                    b.markBroken();
                }
            } else if (reset) {
                BackendReset.resetAndRelease(b);
            } else {
                b.pool().release(b);
            }
            return true;
        }
        b.markBroken();
        b.owner(null);
        if (owed) {
            CancelForwarder.send(b, client.eventLoop()).addListener(f -> b.channel().close());
        } else {
            b.channel().close();
        }
        return false;
    }

    /** Forwards a client's cancel to the backend running its query; the backend is held until the cancel landed. */
    void cancelRunning(io.netty.channel.EventLoop loop) {
        BackendConnection b = backend;
        if (b == null || tracker.isEmpty()) {
            return; // nothing running: a late cancel must not reach the backend's next client
        }
        if (Expect.isInternal(tracker.headKind())) {
            // pgbalancer's own query runs (settings sync, restore, commit position): cancelling it would fail the
            // session or lose a commit position. The cancel waits for the client's own message to run.
            cancelDeferred = true;
            return;
        }
        cancelDeferred = false;
        if (!b.cancelStarted()) {
            return; // merged into the cancel already on its way to this backend
        }
        CancelForwarder.send(b, loop).addListener(f -> {
            if (!f.isSuccess()) {
                // no hang-up seen (timeout, refused connect): a request already sent may still land, on whatever
                // query the backend runs then, so the connection is never given to another client
                b.markBroken();
            }
            if (b.cancelFinished() && b != backend) {
                b.pool().release(b); // the release was deferred until the cancel could no longer land
            }
        });
    }

    @Override
    public String toString() {
        return state + (backend == null ? "" : " on " + backend) + " (status " + txStatus + ", " + tracker.size()
                + " answers owed)";
    }
}

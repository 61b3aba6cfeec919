// A client's named prepared statements, mapped to proxy-owned names shared by identical statement text.
package io.pgbalancer.session;

import io.pgbalancer.sql.Classification;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named statements belong to a backend connection, but in transaction pooling a client may run on any of them.
 * Every distinct (query text, parameter types) gets one proxy name for the life of the process; a backend that lacks
 * it gets a hidden Parse before first use. Clients may reuse names freely: the mapping is per client.
 *
 * <p><b>The client's view is what PostgreSQL would have.</b> A name exists for the client exactly when its Parse
 * would have succeeded on a direct connection and no Close has run since. pgbalancer decides a message's fate when
 * it sends it, before the server has answered the earlier ones, so each change is an {@link Op} that stays
 * reversible until settled: if the server skips or rejects the message ({@link Op#skipped()}), the change is undone,
 * newest first. Changes made while a read can still be replayed on another server (ReadReplay) are also undone when
 * it is, since the client never saw them; they settle when the read's window closes.
 *
 * <p>Not thread-safe except for the process-wide map: a session uses its own instance on its event loop.
 */
final class PreparedStatements implements ReadReplay.Listener {
    static final String NAME_PREFIX = "pgbalancer_";
    private static final Map<Body, String> GLOBAL_NAMES = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong();

    /** The Parse body after the statement name: query text, NUL, parameter type count and OIDs. */
    record Body(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Body b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    record Statement(String backendName, Body body, Classification classification) {
    }

    private static final int PENDING = 0;
    private static final int ANSWERED = 1;
    private static final int SETTLED = 2;
    private static final int UNDONE = 3;

    /** One change to the client's names, reversible until settled; also the tracker tag of the message. */
    final class Op implements ResponseTracker.Tag {
        private final boolean define;
        private final String clientName;
        private final Statement statement;
        /** Made while the read could still run again elsewhere (ReadReplay open): undone if it does. */
        private boolean replayable;
        private int state = PENDING;

        private Op(boolean define, String clientName, Statement statement, boolean replayable) {
            this.define = define;
            this.clientName = clientName;
            this.statement = statement;
            this.replayable = replayable;
        }

        Statement statement() {
            return statement;
        }

        @Override
        public void answered() {
            if (state != PENDING) {
                return;
            }
            state = ANSWERED;
            if (!replayable) {
                settle(this);
            }
        }

        @Override
        public void skipped() {
            undo(this);
        }

        @Override
        public boolean changesClientView() {
            return true;
        }
    }

    private Map<String, Statement> byClientName;
    /** Ops not settled yet, oldest first. */
    private final List<Op> open = new ArrayList<>(0);

    // ---------------------------------------------------------------- the client's names

    Statement get(String clientName) {
        return byClientName == null ? null : byClientName.get(clientName);
    }

    boolean contains(String clientName) {
        return byClientName != null && byClientName.containsKey(clientName);
    }

    int size() {
        return byClientName == null ? 0 : byClientName.size();
    }

    /**
     * Defines {@code clientName}, which must not exist (a duplicate is the server's error to give, see FrontendRelay).
     * The returned op must be settled: tag the message's tracker entry with it, or call {@link Op#answered()}.
     */
    Op define(String clientName, byte[] body, Classification classification, boolean replayable) {
        if (contains(clientName)) {
            throw new IllegalStateException("prepared statement \"" + clientName + "\" already exists");
        }
        Body key = new Body(body);
        Statement st = new Statement(GLOBAL_NAMES.computeIfAbsent(key, k -> NAME_PREFIX + NEXT.incrementAndGet()),
                key, classification);
        if (byClientName == null) {
            byClientName = new HashMap<>();
        }
        byClientName.put(clientName, st);
        return track(new Op(true, clientName, st, replayable));
    }

    /** Defines {@code clientName} for good, as if the server had answered the Parse. */
    Statement define(String clientName, byte[] body, Classification classification) {
        Op op = define(clientName, body, classification, false);
        op.answered();
        return op.statement();
    }

    /** Closes {@code clientName}; null if the client has no such statement (a Close of it is a no-op, as direct). */
    Op close(String clientName, boolean replayable) {
        Statement st = byClientName == null ? null : byClientName.remove(clientName);
        return st == null ? null : track(new Op(false, clientName, st, replayable));
    }

    /** Closes {@code clientName} for good, as if the server had answered the Close. */
    void remove(String clientName) {
        Op op = close(clientName, false);
        if (op != null) {
            op.answered();
        }
    }

    private Op track(Op op) {
        open.add(op);
        return op;
    }

    private void settle(Op op) {
        op.state = SETTLED;
        open.remove(op);
    }

    /** Undoes a change the server never made (or the client never saw); newer changes must have been undone first. */
    private void undo(Op op) {
        if (op.state == SETTLED || op.state == UNDONE) {
            return;
        }
        op.state = UNDONE;
        int at = open.lastIndexOf(op);
        if (at >= 0) {
            open.remove(at);
        }
        if (op.define) {
            if (byClientName != null) {
                byClientName.remove(op.clientName, op.statement);
            }
        } else if (byClientName == null || !byClientName.containsKey(op.clientName)) {
            if (byClientName == null) {
                byClientName = new HashMap<>();
            }
            byClientName.put(op.clientName, op.statement);
        }
    }

    /** The read's window closed with the client seeing its answers: what it changed is final once answered. */
    @Override
    public void windowEnded() {
        for (Op op : open.toArray(new Op[0])) {
            op.replayable = false;
            if (op.state == ANSWERED) {
                settle(op);
            }
        }
    }

    /** The read runs again from scratch elsewhere: the client never saw what its first run changed. */
    @Override
    public void replayed() {
        for (int i = open.size() - 1; i >= 0; i--) {
            if (i < open.size() && open.get(i).replayable) {
                undo(open.get(i));
            }
        }
    }

    /** Forgets every name. */
    void clear() {
        for (Op op : open) {
            op.state = SETTLED; // answers still to come for them change nothing now
        }
        open.clear();
        byClientName = null;
    }
}

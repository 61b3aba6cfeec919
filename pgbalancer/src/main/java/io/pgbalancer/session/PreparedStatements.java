// A client's named prepared statements, mapped to proxy-owned names shared by identical statement text.
package io.pgbalancer.session;

import io.pgbalancer.sql.Classification;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named statements belong to a backend connection, but in transaction pooling a client may run on any of them.
 * Every distinct (query text, parameter types) in use gets one proxy name; a backend that lacks it gets a hidden
 * Parse before first use. Clients may reuse names freely: the mapping is per client.
 *
 * <p><b>Names are never reused.</b> A proxy name comes from a process-wide counter and always stands for the one
 * text it was made for. The process-wide map from text to name lists the texts some client defines now, plus the
 * most recently released ones ({@link #idleNameLimit} of them, {@link #IDLE_BYTE_LIMIT} of text at most): each client
 * definition holds a reference, Close and disconnect drop it, and a text at zero references stays listed (idle)
 * until enough newer texts went idle. So a client that
 * reconnects and prepares the same statements (one connection per request) finds them under the same names on the
 * servers, and the map stays bounded. A backend may keep a statement under a name that is no longer listed (until
 * its LRU bound closes it); a text defined again after its entry went gets a fresh name, so the same text may exist
 * twice on a server, but a name never means two texts.
 *
 * <p><b>The client's view is what PostgreSQL would have.</b> A name exists for the client exactly when its Parse
 * would have succeeded on a direct connection and no Close has run since. pgbalancer decides a message's fate when
 * it sends it, before the server has answered the earlier ones, so each change is an {@link Op} that stays
 * reversible until settled: if the server skips or rejects the message ({@link Op#skipped()}), the change is undone,
 * newest first. Changes made while a read can still be replayed on another server (ReadReplay) are also undone when
 * it is, since the client never saw them; they settle when the read's window closes. A client's Close keeps the
 * statement's reference until the Close settles, so undoing a Close never has to find the name again.
 *
 * <p>Not thread-safe except for the process-wide map: a session uses its own instance on its event loop.
 */
final class PreparedStatements implements ReadReplay.Listener {
    static final String NAME_PREFIX = "pgbalancer_";
    private static final ConcurrentHashMap<Body, Name> GLOBAL_NAMES = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong();
    /** How many texts no client defines keep their name (see the class comment); changed only by tests. */
    static volatile int idleNameLimit = 10_000;
    /** How much statement text idle names may keep (large generated statements would otherwise add up). */
    static final long IDLE_BYTE_LIMIT = 16L << 20;
    /** Texts whose references went to zero, oldest first; an entry revived since is skipped when its turn comes. */
    private static final ConcurrentLinkedQueue<Body> IDLE = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger IDLE_COUNT = new AtomicInteger();
    private static final AtomicLong IDLE_BYTES = new AtomicLong();

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

    /** A proxy name and how many client definitions hold it; {@code refs} changes only inside GLOBAL_NAMES.compute. */
    static final class Name {
        final String value;
        int refs;

        private Name(String value) {
            this.value = value;
        }
    }

    record Statement(Name name, Body body, Classification classification) {
        String backendName() {
            return name.value;
        }
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
    /** No op open: shared and immutable, so an idle session holds no list (a list is made by the first op). */
    private static final List<Op> NO_OPS = List.of();
    /** Ops not settled yet, oldest first; NO_OPS until one is tracked. */
    private List<Op> open = NO_OPS;
    /** The client is gone: every reference was dropped and nothing may take one any more. */
    private boolean released;

    // ---------------------------------------------------------------- the process-wide names

    private static Name acquire(Body body) {
        return GLOBAL_NAMES.compute(body, (k, n) -> {
            Name name = n != null ? n : new Name(NAME_PREFIX + NEXT.incrementAndGet());
            name.refs++;
            return name;
        });
    }

    private static void release(Statement st) {
        boolean[] idle = new boolean[1];
        GLOBAL_NAMES.computeIfPresent(st.body(), (k, n) -> {
            if (n == st.name() && --n.refs == 0) {
                idle[0] = true;
            }
            return n;
        });
        if (idle[0]) {
            IDLE.add(st.body());
            long bytes = IDLE_BYTES.addAndGet(st.body().bytes().length);
            if (IDLE_COUNT.incrementAndGet() > idleNameLimit || bytes > IDLE_BYTE_LIMIT) {
                trimIdle();
            }
        }
    }

    /** Drops the oldest idle texts beyond the limits, unless a client defined them again meanwhile. */
    static void trimIdle() {
        while (IDLE_COUNT.get() > idleNameLimit || IDLE_BYTES.get() > IDLE_BYTE_LIMIT) {
            Body body = IDLE.poll();
            if (body == null) {
                return;
            }
            IDLE_COUNT.decrementAndGet();
            IDLE_BYTES.addAndGet(-body.bytes().length);
            GLOBAL_NAMES.computeIfPresent(body, (k, n) -> n.refs == 0 ? null : n);
        }
    }

    /** How many statement texts have a proxy name now: defined by a connected client, or recently idle. */
    static int globalNameCount() {
        return GLOBAL_NAMES.size();
    }

    /** The proxy name listed for a Parse body now, or null (for tests). */
    static String listedName(byte[] body) {
        Name n = GLOBAL_NAMES.get(new Body(body));
        return n == null ? null : n.value;
    }

    /** How many client definitions hold the name listed for a Parse body, or -1 if none is listed (for tests). */
    static int references(byte[] body) {
        Name n = GLOBAL_NAMES.get(new Body(body));
        return n == null ? -1 : n.refs;
    }

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
        Statement st = new Statement(acquire(key), key, classification);
        if (released) {
            release(st); // a late message of a client that has gone: usable, but holds no reference
        }
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
        if (open == NO_OPS) {
            open = new ArrayList<>(0);
        }
        open.add(op);
        return op;
    }

    private void settle(Op op) {
        op.state = SETTLED;
        if (open != NO_OPS) {
            open.remove(op);
        }
        if (!op.define && !released) {
            release(op.statement); // the closed statement's reference was kept for an undo that can no longer come
        }
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
            if (byClientName != null && byClientName.remove(op.clientName, op.statement) && !released) {
                release(op.statement);
            }
        } else if (byClientName == null || !byClientName.containsKey(op.clientName)) {
            if (byClientName == null) {
                byClientName = new HashMap<>();
            }
            byClientName.put(op.clientName, op.statement); // the kept reference goes back to the mapping
        } else if (!released) {
            release(op.statement); // cannot happen when undone newest first; never leak the reference
        }
    }

    /** The read's window closed with the client seeing its answers: what it changed is final once answered. */
    @Override
    public void windowEnded() {
        if (open.isEmpty()) {
            return; // the usual case: this read defined or closed no names
        }
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

    /** Forgets every name and drops its references; the instance stays usable. */
    void clear() {
        releaseAll();
        released = false;
    }

    /** The client disconnected: its names go, and with them its references to the process-wide names. */
    void release() {
        releaseAll();
        released = true;
    }

    private void releaseAll() {
        if (!released) {
            if (byClientName != null) {
                byClientName.values().forEach(PreparedStatements::release);
            }
            for (Op op : open) {
                if (!op.define && op.state != SETTLED && op.state != UNDONE) {
                    release(op.statement);
                }
            }
        }
        for (Op op : open) {
            op.state = SETTLED; // answers still to come for them change nothing now
        }
        open = NO_OPS;
        byClientName = null;
    }
}

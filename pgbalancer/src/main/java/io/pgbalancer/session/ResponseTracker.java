// FIFO of the answers a backend still owes for the messages sent to it, so replies can be matched, hidden or faked.
package io.pgbalancer.session;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * Each sent message that gets an answer adds an entry; answers arrive in order, so the head entry always says what
 * the next completion belongs to. After an ErrorResponse in the extended protocol the server skips everything up to
 * the next Sync, so the entries for those skipped messages are dropped here too.
 */
final class ResponseTracker {
    /**
     * What sending a message changed in pgbalancer's books (a statement name defined or closed, a statement created
     * on a server): kept when the server answers the message, undone when the server never runs it.
     */
    interface Tag {
        /** The message's answer arrived (or, for an answer pgbalancer gives itself, its turn came). */
        default void answered() {
        }

        /** The server did not run the message: it failed, or an earlier error made the server skip it. */
        void skipped();

        /** Whether this entry changes the client's own view of its statement names (see FrontendRelay). */
        default boolean changesClientView() {
            return false;
        }
    }

    private static final int[] NO_KINDS = new int[0];
    private static final Object[] NO_TAGS = new Object[0];
    private static final int FIRST_CAPACITY = 16;
    /** Most spare arrays a thread keeps: enough for the leases one event loop has attached at once, usually. */
    private static final int MAX_SPARES = 256;
    /**
     * Arrays of trackers that became empty on this thread (their backend went back to the pool), lent to the next one
     * that needs some: an idle client holds none (memory per idle client), and a transaction allocates none.
     */
    private static final FastThreadLocal<Spares> SPARES = new FastThreadLocal<>() {
        @Override
        protected Spares initialValue() {
            return new Spares();
        }
    };

    /** Empty (all-null) pairs of arrays of FIRST_CAPACITY entries. */
    private static final class Spares {
        private final int[][] kinds = new int[MAX_SPARES][];
        private final Object[][] tags = new Object[MAX_SPARES][];
        private int count;
    }

    /** Power-of-two ring buffers; empty (shared) until the first entry (see {@link #recycle()}). */
    private int[] kinds = NO_KINDS;
    private Object[] tags = NO_TAGS;
    private int head;
    private int size;
    /** The server is discarding messages until Sync and none has been sent yet. */
    private boolean discardingUntilSync;
    /** Entries whose tag {@link Tag#changesClientView() changes the client's view} and is not settled yet. */
    private int clientViewChanges;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void add(int kind) {
        add(kind, null);
    }

    void add(int kind, Object tag) {
        if (discardingUntilSync) {
            if (kind != Expect.SYNC) {
                if (tag instanceof Tag t) {
                    t.skipped(); // the server skips this message: whatever it was meant to change did not happen
                }
                return;
            }
            discardingUntilSync = false;
        }
        if (size == kinds.length) {
            grow();
        }
        int at = (head + size) & (kinds.length - 1);
        kinds[at] = kind;
        tags[at] = tag;
        size++;
        if (tag instanceof Tag t && t.changesClientView()) {
            clientViewChanges++;
        }
    }

    /**
     * How many sent messages change the client's statement names and are not answered yet: until they are, whether
     * a later message sees the name defined depends on answers still to come.
     */
    int clientViewChanges() {
        return clientViewChanges;
    }

    /** Whether a message sent now would be discarded by the server (an error is pending its Sync). */
    boolean isDiscarding() {
        return discardingUntilSync;
    }

    int headKind() {
        return size == 0 ? 0 : kinds[head];
    }

    Object headTag() {
        return size == 0 ? null : tags[head];
    }

    /** The head entry is answered: drops it and tells its tag. */
    void pop() {
        Object tag = drop();
        if (tag instanceof Tag t) {
            t.answered();
        }
    }

    /** Removes the head entry without telling its tag anything; returns the tag. */
    private Object drop() {
        Object tag = tags[head];
        tags[head] = null;
        head = (head + 1) & (kinds.length - 1);
        size--;
        if (tag instanceof Tag t && t.changesClientView()) {
            clientViewChanges--;
        }
        return tag;
    }

    /**
     * ErrorResponse to an extended-protocol message: drop it and everything the server will skip until Sync. Each
     * dropped entry's {@link Tag} is told {@link Tag#skipped()}, newest first, so changes made one after another (a
     * Close then a Parse of the same name) are undone in reverse. Other tags (classifications) are just dropped. A
     * client's simple Query or FunctionCall (QUERY) pipelined in between is skipped too: the server discards every
     * message until Sync (PostgreSQL answers Parse-with-an-error, Query, Sync with ErrorResponse, ReadyForQuery).
     */
    void skipToSync() {
        java.util.ArrayList<Tag> skipped = null;
        while (size > 0 && (!Expect.endsAtReadyForQuery(kinds[head]) || kinds[head] == Expect.QUERY)) {
            if (drop() instanceof Tag tag) {
                if (skipped == null) {
                    skipped = new java.util.ArrayList<>();
                }
                skipped.add(tag);
            }
        }
        if (size == 0) {
            discardingUntilSync = true;
        }
        for (int i = skipped == null ? -1 : skipped.size() - 1; i >= 0; i--) {
            skipped.get(i).skipped();
        }
    }

    /** ReadyForQuery: pop up to and including the Sync/Query it answers; returns that entry's kind. */
    int popThroughReadyForQuery() {
        while (size > 0) {
            int kind = kinds[head];
            pop();
            if (Expect.endsAtReadyForQuery(kind)) {
                return kind;
            }
        }
        return 0;
    }

    /** Forgets everything owed (the backend is gone); tags are not told: the caller settles the books itself. */
    void clear() {
        while (size > 0) {
            drop();
        }
        discardingUntilSync = false;
    }

    /** Lends the arrays to the next tracker on this thread when nothing is owed (the backend is detached). */
    void recycle() {
        if (size != 0 || kinds.length == 0) {
            return;
        }
        if (kinds.length == FIRST_CAPACITY) {
            Spares spares = SPARES.get();
            if (spares.count < MAX_SPARES) {
                spares.kinds[spares.count] = kinds;
                spares.tags[spares.count] = tags; // all null: drop() clears every entry it removes
                spares.count++;
            }
        }
        kinds = NO_KINDS;
        tags = NO_TAGS;
        head = 0;
    }

    private void grow() {
        if (kinds.length == 0) {
            Spares spares = SPARES.get();
            if (spares.count > 0) {
                int last = --spares.count;
                kinds = spares.kinds[last];
                tags = spares.tags[last];
                spares.kinds[last] = null;
                spares.tags[last] = null;
            } else {
                kinds = new int[FIRST_CAPACITY];
                tags = new Object[FIRST_CAPACITY];
            }
            head = 0;
            return;
        }
        int[] k = new int[kinds.length * 2];
        Object[] t = new Object[kinds.length * 2];
        for (int i = 0; i < size; i++) {
            k[i] = kinds[(head + i) & (kinds.length - 1)];
            t[i] = tags[(head + i) & (kinds.length - 1)];
        }
        kinds = k;
        tags = t;
        head = 0;
    }
}

// FIFO of the answers a backend still owes for the messages sent to it, so replies can be matched, hidden or faked.
package io.pgbalancer.session;

/**
 * Each sent message that gets an answer adds an entry; answers arrive in order, so the head entry always says what
 * the next completion belongs to. After an ErrorResponse in the extended protocol the server skips everything up to
 * the next Sync, so the entries for those skipped messages are dropped here too.
 */
final class ResponseTracker {
    private int[] kinds = new int[16];
    private Object[] tags = new Object[16];
    private int head;
    private int size;
    /** The server is discarding messages until Sync and none has been sent yet. */
    private boolean discardingUntilSync;

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

    void pop() {
        tags[head] = null;
        head = (head + 1) & (kinds.length - 1);
        size--;
    }

    /** ErrorResponse to an extended-protocol message: drop it and everything the server will skip until Sync. */
    void skipToSync() {
        skipToSync(tag -> { });
    }

    /** As {@link #skipToSync()}, handing each dropped entry's tag (e.g. a statement name) to {@code dropped}. */
    void skipToSync(java.util.function.Consumer<Object> dropped) {
        while (size > 0 && !Expect.endsAtReadyForQuery(kinds[head])) {
            if (tags[head] instanceof String name) {
                dropped.accept(name); // a statement name (PARSE entries); other entries carry classifications
            }
            pop();
        }
        if (size == 0) {
            discardingUntilSync = true;
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

    void clear() {
        while (size > 0) {
            pop();
        }
        discardingUntilSync = false;
    }

    private void grow() {
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

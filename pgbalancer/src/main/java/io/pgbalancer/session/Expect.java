// What the proxy expects back from a backend for each message it sent, and what to do with the answer.
package io.pgbalancer.session;

import io.pgbalancer.protocol.BackendMessage;

/** Kinds stored in a {@link ResponseTracker}; plain ints keep the per-message path allocation-free. */
final class Expect {
    private Expect() {
    }

    /** Client's Parse: answer ParseComplete goes to the client. */
    static final int PARSE = 1;
    /** Proxy-injected Parse of a client's named statement on this backend: swallow its ParseComplete. */
    static final int PARSE_HIDDEN = 2;
    static final int BIND = 3;
    static final int DESCRIBE = 4;
    static final int EXECUTE = 5;
    static final int CLOSE = 6;
    /** Sync: answered by ReadyForQuery. */
    static final int SYNC = 7;
    /** Simple Query or FunctionCall: everything until ReadyForQuery. */
    static final int QUERY = 8;
    /** Proxy-internal simple query (settings sync, reset): swallow everything until its ReadyForQuery. */
    static final int INTERNAL = 9;
    /** Proxy-internal simple query that puts back settings a client's RESET left at the server's default: as INTERNAL,
     * but its ParameterStatus messages go to the client. */
    static final int RESTORE = 12;
    /** Proxy-internal query for the WAL position after a commit: as INTERNAL, but its DataRow carries the position
     * and an error (an aborted transaction) only means no position was learned. */
    static final int COMMIT_LSN = 13;
    /** No backend message: the proxy answers ParseComplete itself when the entry reaches the head. */
    static final int FAKE_PARSE_COMPLETE = 10;
    /** No backend message: the proxy answers CloseComplete itself when the entry reaches the head. */
    static final int FAKE_CLOSE_COMPLETE = 11;

    static boolean endsAtReadyForQuery(int kind) {
        return kind == SYNC || kind == QUERY || kind == INTERNAL || kind == RESTORE || kind == COMMIT_LSN;
    }

    static boolean isInternal(int kind) {
        return kind == INTERNAL || kind == RESTORE || kind == COMMIT_LSN;
    }

    static boolean isFake(int kind) {
        return kind == FAKE_PARSE_COMPLETE || kind == FAKE_CLOSE_COMPLETE;
    }

    /** Whether backend message {@code m} is the last answer to a message of {@code kind}. */
    static boolean completes(int kind, BackendMessage m) {
        return switch (kind) {
            case PARSE, PARSE_HIDDEN -> m == BackendMessage.PARSE_COMPLETE;
            case BIND -> m == BackendMessage.BIND_COMPLETE;
            case CLOSE -> m == BackendMessage.CLOSE_COMPLETE;
            case DESCRIBE -> m == BackendMessage.ROW_DESCRIPTION || m == BackendMessage.NO_DATA;
            case EXECUTE -> m == BackendMessage.COMMAND_COMPLETE || m == BackendMessage.PORTAL_SUSPENDED
                    || m == BackendMessage.EMPTY_QUERY_RESPONSE;
            default -> false;
        };
    }
}

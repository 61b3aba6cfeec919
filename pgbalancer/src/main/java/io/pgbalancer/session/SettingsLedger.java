// Tracks exactly which SET/RESET statements the server applied and kept, through savepoints, errors and rollbacks.
package io.pgbalancer.session;

import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.SessionSet;
import java.util.ArrayList;
import java.util.List;

/**
 * A setting change counts only once the server reports its statement complete, and it lasts only if its transaction
 * commits: an error in the transaction (explicit, or the implicit one of a multi-statement Query or of a pipeline
 * before its Sync) or a ROLLBACK drops it, and ROLLBACK TO SAVEPOINT drops only the changes made after that savepoint.
 * The changes of the open transaction are kept in order with their savepoints; at the end they are folded into the
 * client's settings. All methods run on the session's event loop.
 */
final class SettingsLedger {
    private SessionSettings settings;
    /** Setting changes and savepoints of the open transaction, in the order the server completed them. */
    private List<SessionSet> open;
    /** The open transaction failed and was not rescued by ROLLBACK TO SAVEPOINT: its changes will not last. */
    private boolean failed;
    /** Statements of the current simple Query completed so far (they complete in order). */
    private int completedInQuery;
    /** Changes committed since the last ReadyForQuery, to tell what the server holds (see readyForQuery). */
    private List<SessionSet> committed;

    SettingsLedger(SessionSettings settings) {
        this.settings = settings;
    }

    SessionSettings settings() {
        return settings;
    }

    /**
     * A statement finished (CommandComplete). {@code c} is the classification of the Query or of the executed
     * portal's statement; {@code inQuery} says it is one of a simple Query's statements, counted in order.
     */
    void completed(Classification c, boolean inQuery, boolean rollbackTag, boolean commitTag) {
        int index = inQuery ? completedInQuery++ : 0;
        boolean rolledBackTo = false;
        if (c != null) {
            for (SessionSet set : c.sets()) {
                if (set.statement() == index) {
                    rolledBackTo |= record(set);
                }
            }
        }
        if (commitTag) {
            end(true);
        } else if (rollbackTag && !rolledBackTo) {
            end(false);
        }
    }

    /** An ErrorResponse to a client statement. */
    void failed() {
        failed = true;
    }

    /**
     * ReadyForQuery. At 'I' the transaction is over: its changes last unless it failed. Returns what the server now
     * holds when that differs from the client's settings (a RESET left a startup parameter at the server's default),
     * else null.
     */
    SessionSettings readyForQuery(char status) {
        completedInQuery = 0;
        if (status != 'I') {
            return null;
        }
        end(!failed);
        if (committed == null) {
            return null;
        }
        SessionSettings server = settings.onServerAfter(committed);
        committed = null;
        return server == settings ? null : server;
    }

    /** The server's transaction is gone with its connection (the read re-runs elsewhere). */
    void abandon() {
        open = null;
        failed = false;
        completedInQuery = 0;
        committed = null;
    }

    /** Returns true when {@code set} rolled back to a savepoint. */
    private boolean record(SessionSet set) {
        switch (set.kind()) {
            case ROLLBACK_TO -> {
                int at = lastSavepoint(set.name());
                if (at >= 0) {
                    open.subList(at + 1, open.size()).clear(); // the savepoint itself stays
                }
                failed = false;
                return true;
            }
            case RELEASE -> {
                int at = lastSavepoint(set.name());
                if (at >= 0) {
                    open.subList(at, open.size()).removeIf(s -> s.kind() == SessionSet.Kind.SAVEPOINT);
                }
            }
            default -> {
                if (open == null) {
                    open = new ArrayList<>(4);
                }
                open.add(set);
            }
        }
        return false;
    }

    private int lastSavepoint(String name) {
        if (open != null) {
            for (int i = open.size() - 1; i >= 0; i--) {
                SessionSet s = open.get(i);
                if (s.kind() == SessionSet.Kind.SAVEPOINT && s.name().equals(name)) {
                    return i;
                }
            }
        }
        return -1;
    }

    private void end(boolean commit) {
        List<SessionSet> changes = open;
        open = null;
        failed = false;
        if (!commit || changes == null) {
            return;
        }
        settings = settings.apply(changes);
        if (committed == null) {
            committed = changes;
        } else {
            committed.addAll(changes);
        }
    }

    /** Whether a CommandComplete needs a look (a change is pending, or the statement may change settings). */
    boolean watching() {
        return open != null;
    }
}

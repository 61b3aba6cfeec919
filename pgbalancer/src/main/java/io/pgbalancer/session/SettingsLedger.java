// Tracks exactly which SET/RESET statements the server applied and kept, through savepoints, errors and rollbacks.
package io.pgbalancer.session;

import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.SessionSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A setting change counts only once the server reports its statement complete, and it lasts only if its transaction
 * commits: an error in the transaction (explicit, or the implicit one of a multi-statement Query or of a pipeline
 * before its Sync) or a ROLLBACK drops it, and ROLLBACK TO SAVEPOINT drops only the changes made after that savepoint.
 * The changes of the open transaction are kept in order with their savepoints; at the end they are folded into the
 * client's settings.
 *
 * <p>RESET of a parameter the client set at startup makes a pooled server fall back to its own default; the ledger
 * says so at the next ReadyForQuery, and the session puts the client's value back (inside the transaction too: the
 * restore is transactional like the RESET). All methods run on the session's event loop.
 */
final class SettingsLedger {
    private SessionSettings settings;
    /** Setting changes and savepoints of the open transaction, in the order the server completed them. */
    private List<SessionSet> open;
    /** The open transaction failed and was not rescued by ROLLBACK TO SAVEPOINT: its changes will not last. */
    private boolean failed;
    /** Statements of the current simple Query completed so far (they complete in order). */
    private int completedInQuery;
    /** Changes committed since the last idle ReadyForQuery, to tell what the server holds. */
    private List<SessionSet> committed;
    /** A RESET completed since the last idle ReadyForQuery: a startup parameter may need its value back. */
    private boolean resetSeen;

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
     * ReadyForQuery for the client. At 'I' the transaction is over and its changes last unless it failed. Returns the
     * SQL that puts back startup parameters a RESET left at the server's default, or null; at 'T' the restore is
     * counted as part of the open transaction.
     */
    String readyForQuery(char status) {
        completedInQuery = 0;
        if (status == 'I') {
            end(!failed);
            if (!resetSeen) {
                committed = null;
                return null;
            }
            resetSeen = false;
            Set<String> names = committed == null ? null : settings.leftAtServerDefault(committed);
            committed = null;
            return names == null ? null : settings.restoreSql(names);
        }
        if (status == 'E' || !resetSeen) {
            return null;
        }
        Set<String> names = settings.leftAtServerDefault(changesSinceIdle());
        if (names == null) {
            return null;
        }
        if (open == null) {
            open = new ArrayList<>(4);
        }
        for (String name : names) {
            open.add(new SessionSet(name, null, SessionSet.Kind.RESTORE));
        }
        return settings.restoreSql(names);
    }

    /**
     * A ParameterStatus while the client's statements run. A SET of a reported parameter then records the value the
     * server settled on: for DateStyle that can combine the SET with the value before it ({@code SET datestyle TO
     * 'ISO'} keeps the DMY of {@code 'Postgres, DMY'}), so replaying the SET text on another server would differ.
     */
    void reported(String parameter, String value) {
        if (open == null) {
            return;
        }
        String name = parameter.toLowerCase(Locale.ROOT);
        for (int i = open.size() - 1; i >= 0; i--) {
            SessionSet set = open.get(i);
            if (name.equals(set.name()) && set.kind().changesSetting()) {
                if (set.kind() == SessionSet.Kind.SET) {
                    open.set(i, new SessionSet(name, SessionSettings.literal(value), SessionSet.Kind.SET,
                            set.statement()));
                }
                return;
            }
        }
    }

    /** Whether a ParameterStatus for {@code parameter} reports a server default that a restore will replace. */
    boolean hidesReport(String parameter) {
        if (!resetSeen) {
            return false;
        }
        Set<String> names = settings.leftAtServerDefault(changesSinceIdle());
        return names != null && names.contains(parameter.toLowerCase(Locale.ROOT));
    }

    /** The server's transaction is gone with its connection (the read re-runs elsewhere). */
    void abandon() {
        open = null;
        failed = false;
        completedInQuery = 0;
        committed = null;
        resetSeen = false;
    }

    /** Whether a CommandComplete needs a look even without effects of its own (it may end a transaction). */
    boolean watching() {
        return open != null;
    }

    private List<SessionSet> changesSinceIdle() {
        List<SessionSet> all = new ArrayList<>();
        if (committed != null) {
            all.addAll(committed);
        }
        if (open != null) {
            all.addAll(open);
        }
        return all;
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
                resetSeen |= set.kind() == SessionSet.Kind.RESET || set.kind() == SessionSet.Kind.RESET_ALL;
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
}

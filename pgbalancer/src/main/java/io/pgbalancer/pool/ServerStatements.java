// The proxy-named prepared statements that exist on one backend connection.
package io.pgbalancer.pool;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * pgbalancer creates statements on a server under its own names (PreparedStatements) and re-creates them wherever a
 * client runs; this is what one connection has. When to close anything is the owner's call (FrontendRelay): a Close
 * must reach the server where it is neither skipped after an error nor inside COPY, so it is sent only at the start
 * of a client's message cycle.
 *
 * <p>Touched only by the session that currently owns the connection, on its event loop.
 */
public final class ServerStatements {
    private final Set<String> statements = new HashSet<>();
    /** Names to close on the server before its next use, whatever they hold (see {@link #closeLater}). */
    private List<String> closeLater;

    public int size() {
        return statements.size();
    }

    /** Whether the statement exists on the server. */
    public boolean contains(String name) {
        return statements.contains(name);
    }

    /** A use of an existing statement: true if the server has it. */
    public boolean use(String name) {
        return statements.contains(name);
    }

    /** Records that the statement is being created on the server; false (a use) if it already exists there. */
    public boolean add(String name) {
        return statements.add(name);
    }

    /** The statement does not exist on the server (its Parse failed or was skipped, or it was closed). */
    public void remove(String name) {
        statements.remove(name);
    }

    /** Everything was dropped on the server (DISCARD ALL). */
    public void clear() {
        statements.clear();
        closeLater = null;
    }

    /**
     * {@code name} must not exist on the server after the next housekeeping, whatever it holds now (a name
     * pgbalancer created there for a moment; see FrontendRelay's duplicate Parse). Until then it is not usable.
     */
    public void closeLater(String name) {
        statements.remove(name);
        if (closeLater == null) {
            closeLater = new ArrayList<>(2);
        }
        closeLater.add(name);
    }

    /** Whether {@link #takeHousekeeping()} has anything to close. */
    public boolean needsHousekeeping() {
        return closeLater != null;
    }

    /** The names the caller must now close on the server, forgotten here: those marked {@link #closeLater}. */
    public List<String> takeHousekeeping() {
        List<String> close = closeLater != null ? closeLater : new ArrayList<>();
        closeLater = null;
        for (String name : close) {
            statements.remove(name); // re-added meanwhile by a Parse the server skipped: the Close drops it anyway
        }
        return close;
    }
}

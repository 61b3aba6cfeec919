// The proxy-named prepared statements that exist on one backend connection, least recently used first, bounded.
package io.pgbalancer.pool;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pgbalancer creates statements on a server under its own names (PreparedStatements) and re-creates them wherever a
 * client runs, so without a bound a long-lived connection would end up holding every statement any client ever
 * prepared. Beyond {@code limit} (pool.max_prepared_statements) the least recently used ones are closed on the server
 * and forgotten here; the next use re-creates them (a hidden Parse).
 *
 * <p>When to close is the owner's call (FrontendRelay): a Close must reach the server where it is neither skipped
 * after an error nor inside COPY, so it is sent only at the start of a client's message cycle. And a statement used
 * in the transaction that is still running is never closed (its portals would go with it): every use is stamped with
 * the current {@link #newTransaction() transaction stamp} and only older stamps may go. So the set can exceed the
 * limit by what one transaction uses, until that transaction is over.
 *
 * <p>Touched only by the session that currently owns the connection, on its event loop.
 */
public final class ServerStatements {
    private boolean positionStatement;
    private static final class Use {
        long stamp;

        Use(long stamp) {
            this.stamp = stamp;
        }
    }

    private final int limit;
    /** Access order: the eldest entry is the least recently used statement. */
    private final LinkedHashMap<String, Use> statements = new LinkedHashMap<>(16, 0.75f, true);
    private long stamp;
    /** Names to close on the server before its next use, whatever they hold (see {@link #closeLater}). */
    private List<String> closeLater;

    public ServerStatements(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        this.limit = limit;
    }

    public int limit() {
        return limit;
    }

    public int size() {
        return statements.size();
    }

    /** Whether the statement exists on the server; does not count as a use. */
    public boolean contains(String name) {
        return statements.containsKey(name);
    }

    /** A use of an existing statement: true (and it becomes the most recently used) if the server has it. */
    public boolean use(String name) {
        Use u = statements.get(name);
        if (u == null) {
            return false;
        }
        u.stamp = stamp;
        return true;
    }

    /** Records that the statement is being created on the server; false (a use) if it already exists there. */
    public boolean add(String name) {
        if (use(name)) {
            return false;
        }
        statements.put(name, new Use(stamp));
        return true;
    }

    /** The statement does not exist on the server (its Parse failed or was skipped, or it was closed). */
    public void remove(String name) {
        statements.remove(name);
    }

    /** Everything was dropped on the server (DISCARD ALL). */
    /** Whether pgbalancer's own commit-position statement is prepared on this connection (see CommitLearner). */
    public boolean hasPositionStatement() {
        return positionStatement;
    }

    public void positionStatement(boolean prepared) {
        positionStatement = prepared;
    }

    public void clear() {
        statements.clear();
        closeLater = null;
        positionStatement = false;
    }

    /** No transaction is open on the connection: statements used so far may be closed from now on. */
    public void newTransaction() {
        stamp++;
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
        if (closeLater != null) {
            return true;
        }
        if (statements.size() <= limit) {
            return false;
        }
        return statements.values().iterator().next().stamp != stamp;
    }

    /**
     * The names the caller must now close on the server, forgotten here: those marked {@link #closeLater}, then the
     * least recently used statements beyond the limit that the current transaction has not used.
     */
    public List<String> takeHousekeeping() {
        List<String> close = closeLater != null ? closeLater : new ArrayList<>();
        closeLater = null;
        for (String name : close) {
            statements.remove(name); // re-added meanwhile by a Parse the server skipped: the Close drops it anyway
        }
        Iterator<Map.Entry<String, Use>> eldest = statements.entrySet().iterator();
        while (statements.size() > limit && eldest.hasNext()) {
            Map.Entry<String, Use> e = eldest.next();
            if (e.getValue().stamp == stamp) {
                break; // used in the running transaction, and so is everything more recent
            }
            close.add(e.getKey());
            eldest.remove();
        }
        return close;
    }
}

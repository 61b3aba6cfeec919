// One connection to a PostgreSQL server: its channel, its cancel key, and the session state it currently carries.
package io.pgbalancer.pool;

import io.netty.channel.Channel;
import io.pgbalancer.session.SessionSettings;
import java.util.HashMap;
import java.util.Map;

public final class BackendConnection {
    private final PoolKey key;
    private final BackendPool pool;
    private final Channel channel;
    private final long createdNanos = System.nanoTime();
    long idleSinceNanos = createdNanos;
    private int processId;
    private int secret;
    /** Values the server last reported with ParameterStatus. Touched only by the current owner. */
    private final Map<String, String> reported = new HashMap<>();
    /** Proxy-named prepared statements that exist on this connection, bounded by pool.max_prepared_statements. */
    private final ServerStatements statements;
    /** The client settings this connection holds, as last synced; NONE for a fresh or reset connection. */
    private SessionSettings settings = SessionSettings.NONE;
    /** Set when the connection must not be reused (protocol confusion, dirty state, fatal error). */
    private volatile boolean broken;
    private volatile BackendListener owner;
    /** A forwarded cancel for this connection's query is on its way (at most one: more are merged into it). */
    private boolean cancelInFlight;
    private boolean releaseAfterCancel;

    BackendConnection(BackendPool pool, Channel channel) {
        this.key = pool.key();
        this.pool = pool;
        this.channel = channel;
        this.statements = new ServerStatements(pool.settings().maxPreparedStatements());
    }

    public PoolKey key() {
        return key;
    }

    /** The pool this connection belongs to and goes back to. */
    public BackendPool pool() {
        return pool;
    }

    public Channel channel() {
        return channel;
    }

    /** The proxy-named prepared statements that exist on this connection (see ServerStatements). */
    public ServerStatements statements() {
        return statements;
    }

    /** BackendKeyData from login: what a CancelRequest for this connection must carry. */
    void cancelKey(int processId, int secret) {
        this.processId = processId;
        this.secret = secret;
    }

    /** A ParameterStatus from the server. */
    public void report(String name, String value) {
        reported.put(name, value);
    }

    /** The parameter values the server has reported, as a client logging in here would be told them. */
    public Map<String, String> reportedParameters() {
        return java.util.Collections.unmodifiableMap(reported);
    }

    public SessionSettings settings() {
        return settings;
    }

    /** Records the client settings this connection now holds (after a sync, or once a client's SETs committed). */
    public void settings(SessionSettings now) {
        settings = now == null ? SessionSettings.NONE : now;
    }

    /** The connection must not be reused: the pool closes it instead of taking it back. */
    public void markBroken() {
        broken = true;
    }

    public boolean isBroken() {
        return broken;
    }

    public int processId() {
        return processId;
    }

    public int secret() {
        return secret;
    }

    public long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    public BackendListener owner() {
        return owner;
    }

    public void owner(BackendListener listener) {
        this.owner = listener;
    }

    /**
     * A cancel for this connection's current query is about to go; the connection must not change owner meanwhile.
     * Returns false, and counts nothing, when one is already on its way: that one cancels the same query, and a
     * flood of cancels for one client then costs the server one cancel connection at a time.
     */
    public synchronized boolean cancelStarted() {
        if (cancelInFlight) {
            return false;
        }
        cancelInFlight = true;
        return true;
    }

    /** Returns true when a release was deferred for this cancel and should happen now. */
    public synchronized boolean cancelFinished() {
        cancelInFlight = false;
        if (releaseAfterCancel) {
            releaseAfterCancel = false;
            return true;
        }
        return false;
    }

    /** Returns false (and remembers to release later) while a cancel is in flight. */
    public synchronized boolean mayReleaseNow() {
        if (cancelInFlight) {
            releaseAfterCancel = true;
            return false;
        }
        return true;
    }

    @Override
    public String toString() {
        return "backend pid " + processId + " (" + key.describe() + ")";
    }
}

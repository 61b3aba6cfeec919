// One connection to a PostgreSQL server: its channel, its cancel key, and the session state it currently carries.
package io.pgbalancer.pool;

import io.netty.channel.Channel;
import java.util.HashMap;
import java.util.Map;

public final class BackendConnection {
    private final PoolKey key;
    private final BackendPool pool;
    private final Channel channel;
    private final long createdNanos = System.nanoTime();
    long idleSinceNanos = createdNanos;
    int processId;
    int secret;
    /** Values the server last reported with ParameterStatus. Touched only by the current owner. */
    public final Map<String, String> reported = new HashMap<>();
    /** Proxy-named prepared statements that exist on this connection, bounded by pool.max_prepared_statements. */
    public final ServerStatements prepared;
    /** The client settings applied to this connection, as last synced (see SessionSettings). */
    public Object applied;
    /** Set when the connection must not be reused (protocol confusion, dirty state, fatal error). */
    public boolean broken;
    private volatile BackendListener owner;
    private int cancelsInFlight;
    private boolean releaseAfterCancel;

    BackendConnection(BackendPool pool, Channel channel) {
        this.key = pool.key();
        this.pool = pool;
        this.channel = channel;
        this.prepared = new ServerStatements(pool.settings().maxPreparedStatements());
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

    /** A cancel for this connection's current query is on its way; the connection must not change owner meanwhile. */
    public synchronized void cancelStarted() {
        cancelsInFlight++;
    }

    /** Returns true when a release was deferred for this cancel and should happen now. */
    public synchronized boolean cancelFinished() {
        cancelsInFlight--;
        if (cancelsInFlight == 0 && releaseAfterCancel) {
            releaseAfterCancel = false;
            return true;
        }
        return false;
    }

    /** Returns false (and remembers to release later) while a cancel is in flight. */
    public synchronized boolean mayReleaseNow() {
        if (cancelsInFlight > 0) {
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

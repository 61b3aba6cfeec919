// Backend connections for one (server, user, database): bounded size, waiters, idle timeout and max lifetime.
package io.pgbalancer.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

public final class BackendPool {
    private final PoolKey key;
    /** Replaced on reload (see {@link #reconfigure}). */
    private volatile PoolSettings settings;
    private volatile String password;
    /** Most recently used first, so busy periods reuse warm connections and the rest can idle out. */
    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<PoolWaiter> waiters = new ArrayDeque<>();
    private final List<BackendConnection> all = new ArrayList<>();
    private int total;
    /** Connections being opened (counted in total), each for one of the first waiters. */
    private int opening;
    /** The event loops of the connections being opened (one entry each). */
    private final List<EventLoop> openingOn = new ArrayList<>(1);
    /** Connections closed to shrink the pool whose close has not completed yet (still counted in total). */
    private final java.util.Set<BackendConnection> shrinking =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private boolean closed;
    /** Its server was removed by a reload: waiters are still served, then connections close instead of idling. */
    private boolean retired;
    private volatile io.pgbalancer.tls.BackendTlsContext tls = io.pgbalancer.tls.BackendTlsContext.PLAINTEXT;

    public BackendPool(PoolKey key, PoolSettings settings, String password) {
        this.key = key;
        this.settings = settings;
        this.password = password;
    }

    public PoolKey key() {
        return key;
    }

    /** The TLS new connections of this pool use (backend_tls). */
    public io.pgbalancer.tls.BackendTlsContext tls() {
        return tls;
    }

    /** Sets the TLS for connections opened from now on; open ones keep theirs. */
    public void tls(io.pgbalancer.tls.BackendTlsContext next) {
        this.tls = next;
    }

    public PoolSettings settings() {
        return settings;
    }

    /**
     * Applies reloaded settings and password. A larger size opens connections for waiters at once; a smaller one
     * closes idle connections beyond it now and busy ones as they come back. New logins use the new password;
     * connections already logged in stay.
     */
    public void reconfigure(PoolSettings next, String nextPassword) {
        List<BackendConnection> excess = new ArrayList<>();
        synchronized (this) {
            settings = next;
            password = nextPassword;
            while (total - shrinking.size() > next.size() && !idle.isEmpty()) {
                BackendConnection c = idle.pollLast();
                shrinking.add(c);
                excess.add(c);
            }
        }
        excess.forEach(c -> c.channel().close());
        maybeOpenForWaiters();
    }

    /** Its server left the configuration: idle connections close now, busy ones when their transaction ends. */
    public void retire() {
        List<BackendConnection> idleNow;
        synchronized (this) {
            retired = true;
            idleNow = new ArrayList<>(idle);
            idle.clear();
        }
        idleNow.forEach(c -> c.channel().close());
    }

    /** Retired with no connection and no waiter left: nothing more will happen in it. */
    public synchronized boolean isDrained() {
        return retired && total == 0 && waiters.isEmpty();
    }

    /** An idle connection right now (same loop preferred), or null; the per-query fast path, no promise. */
    public BackendConnection pollIdle(EventLoop loop) {
        synchronized (this) {
            return closed || idle.isEmpty() ? null : takeIdle(loop);
        }
    }

    /** A connection for a client on {@code loop}; prefers an idle one on the same loop to avoid thread hops. */
    public Future<BackendConnection> acquire(EventLoop loop) {
        Promise<BackendConnection> promise = loop.newPromise();
        PoolWaiter waiter = new PoolWaiter(promise, loop, System.nanoTime() + settings.checkoutTimeout().toNanos());
        BackendConnection ready;
        boolean connect = false;
        synchronized (this) {
            if (closed) {
                return promise.setFailure(new BackendLoginException("pool " + key.describe() + " is closed", null, null));
            }
            ready = takeIdle(loop);
            if (ready == null) {
                waiters.addLast(waiter);
                if (total < settings.size()) {
                    total++;
                    opening++;
                    connect = true;
                }
            }
        }
        if (ready != null) {
            return promise.setSuccess(ready);
        }
        if (connect) {
            open(loop, waiter);
        }
        return promise;
    }

    private BackendConnection takeIdle(EventLoop loop) {
        BackendConnection fallback = null;
        for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
            BackendConnection c = it.next();
            if (c.channel().eventLoop() == loop) {
                it.remove();
                return c;
            }
            if (fallback == null) {
                fallback = c;
            }
        }
        if (fallback != null) {
            idle.remove(fallback);
        }
        return fallback;
    }

    private void open(EventLoop requester, PoolWaiter trigger) {
        EventLoop loop;
        synchronized (this) {
            loop = LoopAffinity.loopForNewConnection(requester, settings.size(), all, openingOn);
            openingOn.add(loop);
        }
        Future<BackendConnection> connecting;
        try {
            connecting = BackendConnector.connect(this, loop, password, settings.connectTimeout().toMillis());
        } catch (RuntimeException e) { // e.g. the loop refuses work while shutting down
            openFailed(loop, trigger, e);
            return;
        }
        connecting.addListener(f -> {
            if (f.isSuccess()) {
                BackendConnection c = (BackendConnection) f.getNow();
                synchronized (this) {
                    openingOn.remove(loop);
                    all.add(c);
                    opening--;
                }
                release(c, true);
            } else {
                openFailed(loop, trigger, f.cause());
            }
        });
    }

    private void openFailed(EventLoop loop, PoolWaiter trigger, Throwable cause) {
        synchronized (this) {
            openingOn.remove(loop);
            total--;
            opening--;
            waiters.remove(trigger);
        }
        trigger.promise.tryFailure(cause);
        maybeOpenForWaiters();
    }

    /** Opens a connection for every waiter no open is on its way for, as far as the size allows. */
    private void maybeOpenForWaiters() {
        List<PoolWaiter> next = new ArrayList<>(1);
        synchronized (this) {
            if (closed) {
                return;
            }
            int skip = opening;
            for (PoolWaiter w : waiters) {
                if (total >= settings.size()) {
                    break;
                }
                if (skip > 0) {
                    skip--;
                    continue;
                }
                total++;
                opening++;
                next.add(w);
            }
        }
        for (PoolWaiter w : next) {
            open(w.loop, w);
        }
    }

    /**
     * Fails waiters whose checkout_timeout passed. Called by a periodic sweep rather than a timer per wait: waits
     * are frequent under load and the queue is FIFO, so expired waiters are always at its head.
     */
    public void expireWaiters() {
        long now = System.nanoTime();
        List<PoolWaiter> expired = null;
        synchronized (this) {
            while (!waiters.isEmpty() && waiters.peekFirst().deadlineNanos - now <= 0) {
                if (expired == null) {
                    expired = new ArrayList<>();
                }
                expired.add(waiters.pollFirst());
            }
        }
        if (expired != null) {
            long timeoutMillis = settings.checkoutTimeout().toMillis();
            for (PoolWaiter w : expired) {
                w.promise.tryFailure(new PoolTimeoutException("no backend connection became free within"
                        + " checkout_timeout " + timeoutMillis + " ms (pool " + key.describe() + ", size "
                        + settings.size() + ")"));
            }
        }
    }

    /** Returns a clean connection (ReadyForQuery idle, nothing outstanding) to the pool or to the oldest waiter. */
    public void release(BackendConnection c) {
        release(c, false);
    }

    /**
     * {@code fresh}: just opened and logged in, never used. max_lifetime does not apply to it yet: its age counts
     * from before the connect, and a limit shorter than a login would otherwise open connections in a loop.
     */
    private void release(BackendConnection c, boolean fresh) {
        c.owner(null);
        if (c.isBroken() || !c.channel().isActive() || (!fresh && expired(c))) {
            c.channel().close();
            return;
        }
        while (true) {
            PoolWaiter w;
            synchronized (this) {
                if (closed) {
                    w = null;
                } else {
                    w = LoopAffinity.nextWaiter(waiters, c.channel().eventLoop());
                    if (w == null && (retired || total - shrinking.size() > settings.size())) {
                        shrinking.add(c);
                        break; // drained or shrunk by a reload: close it
                    }
                    if (w == null) {
                        c.idleSinceNanos = System.nanoTime();
                        idle.addFirst(c);
                        return;
                    }
                }
            }
            if (w == null) {
                c.channel().close();
                return;
            }
            if (w.promise.trySuccess(c)) {
                return;
            }
        }
        c.channel().close();
    }

    private boolean expired(BackendConnection c) {
        long max = settings.maxLifetime().toNanos();
        return max > 0 && c.ageNanos() > max;
    }

    /** Called when a connection's channel closed, whatever the reason. */
    void onClosed(BackendConnection c) {
        synchronized (this) {
            if (!all.remove(c)) {
                return;
            }
            idle.remove(c);
            shrinking.remove(c);
            total--;
        }
        maybeOpenForWaiters();
    }

    /** Closes connections idle longer than idle_timeout or older than max_lifetime. */
    public void evict() {
        long now = System.nanoTime();
        long idleLimit = settings.idleTimeout().toNanos();
        List<BackendConnection> victims = new ArrayList<>();
        synchronized (this) {
            for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
                BackendConnection c = it.next();
                if ((idleLimit > 0 && now - c.idleSinceNanos > idleLimit) || expired(c)) {
                    it.remove();
                    victims.add(c);
                }
            }
        }
        victims.forEach(c -> c.channel().close());
    }

    public void close() {
        List<BackendConnection> victims;
        List<PoolWaiter> waiting;
        synchronized (this) {
            closed = true;
            victims = new ArrayList<>(all);
            waiting = new ArrayList<>(waiters);
            waiters.clear();
            idle.clear();
        }
        waiting.forEach(w -> w.promise.tryFailure(new BackendLoginException("pgbalancer is shutting down", null, null)));
        for (BackendConnection c : victims) {
            io.netty.buffer.ByteBuf bye = c.channel().alloc().buffer(5);
            io.pgbalancer.protocol.ClientMessages.terminate(bye);
            c.channel().writeAndFlush(bye).addListener(f -> c.channel().close());
        }
    }

    /** The pool's open connections, each with whether it is idle (for SHOW SERVERS). */
    public synchronized List<Map.Entry<BackendConnection, Boolean>> connections() {
        List<Map.Entry<BackendConnection, Boolean>> out = new ArrayList<>(all.size());
        for (BackendConnection c : all) {
            out.add(Map.entry(c, idle.contains(c)));
        }
        return out;
    }

    public synchronized int total() {
        return total;
    }

    public synchronized int idleCount() {
        return idle.size();
    }

    public synchronized int waiting() {
        return waiters.size();
    }
}

// All backend pools, created on first use per (server, user, database), with a periodic idle sweep.
package io.pgbalancer.pool;

import io.netty.channel.EventLoopGroup;
import io.pgbalancer.routing.BackendNode;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

public final class PoolRegistry {
    private final ConcurrentHashMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private volatile PoolSettings settings;
    private volatile Function<String, String> passwords;
    private volatile io.pgbalancer.tls.BackendTlsContext tls = io.pgbalancer.tls.BackendTlsContext.PLAINTEXT;
    private final CopyOnWriteArrayList<Consumer<BackendPool>> onNewPool = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Consumer<BackendPool>> onPoolGone = new CopyOnWriteArrayList<>();

    /** @param passwords the configured password of a user, or null */
    public PoolRegistry(PoolSettings settings, Function<String, String> passwords, EventLoopGroup sweeper) {
        this.settings = settings;
        this.passwords = passwords;
        sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
        sweeper.scheduleWithFixedDelay(() -> pools.values().forEach(BackendPool::expireWaiters), 50, 50,
                TimeUnit.MILLISECONDS);
    }

    public BackendPool pool(BackendNode node, String user, String database) {
        PoolKey key = new PoolKey(node, user, database);
        BackendPool existing = pools.get(key);
        if (existing != null) {
            return existing;
        }
        BackendPool[] created = new BackendPool[1];
        BackendPool pool = pools.computeIfAbsent(key, k -> created[0] =
                new BackendPool(k, capped(node), passwords.apply(user)));
        if (created[0] != null) {
            created[0].tls(tls);
            if (node.isRetired()) {
                created[0].retire(); // chosen just before a reload removed the server: serve this one, then drain
            }
            onNewPool.forEach(l -> l.accept(created[0]));
        }
        return pool;
    }

    /** Called once for every pool, those that exist now and those created from now on (metrics register gauges). */
    public void onNewPool(Consumer<BackendPool> listener) {
        onNewPool.add(listener);
        pools.values().forEach(listener);
    }

    /** Called when a retired server's pool has drained and is dropped (metrics remove its gauges). */
    public void onPoolGone(Consumer<BackendPool> listener) {
        onPoolGone.add(listener);
    }

    /**
     * Applies reloaded pool settings and passwords to every pool (see {@link BackendPool#reconfigure}), and the
     * servers' current max_connections.
     */
    public void reconfigure(PoolSettings next, Function<String, String> nextPasswords) {
        settings = next;
        passwords = nextPasswords;
        for (BackendPool p : pools.values()) {
            p.reconfigure(capped(p.key().node()), nextPasswords.apply(p.key().user()));
        }
    }

    /** The TLS towards the servers (backend_tls) for connections opened from now on, in every pool. */
    public void backendTls(io.pgbalancer.tls.BackendTlsContext next) {
        tls = next;
        pools.values().forEach(p -> p.tls(next));
    }

    /** Pools of servers a reload removed start draining now (the periodic sweep drops them once empty). */
    public void retire(Collection<BackendNode> removed) {
        for (BackendPool p : pools.values()) {
            if (removed.contains(p.key().node())) {
                p.retire();
            }
        }
    }

    private void sweep() {
        for (BackendPool p : pools.values()) {
            p.evict();
            if (p.key().node().isRetired()) {
                p.retire();
                if (p.isDrained() && pools.remove(p.key(), p)) {
                    onPoolGone.forEach(l -> l.accept(p));
                }
            }
        }
    }

    /** A server's max_connections caps its pools, so extra work queues in the pool instead of piling up there. */
    private PoolSettings capped(BackendNode node) {
        PoolSettings current = settings;
        Integer max = node.backend().maxConnections();
        if (max == null || max >= current.size()) {
            return current;
        }
        return current.withSize(max);
    }

    public Collection<BackendPool> all() {
        return pools.values();
    }

    public void close() {
        pools.values().forEach(BackendPool::close);
    }
}

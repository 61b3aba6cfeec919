// All backend pools, created on first use per (server, user, database), with a periodic idle sweep.
package io.pgbalancer.pool;

import io.netty.channel.EventLoopGroup;
import io.pgbalancer.config.Backend;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

public final class PoolRegistry {
    private final ConcurrentHashMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final PoolSettings settings;
    private final Function<String, String> passwords;
    private volatile java.util.function.Consumer<BackendPool> onNewPool = pool -> { };

    /** @param passwords the configured password of a user, or null */
    public PoolRegistry(PoolSettings settings, Function<String, String> passwords, EventLoopGroup sweeper) {
        this.settings = settings;
        this.passwords = passwords;
        sweeper.scheduleWithFixedDelay(() -> pools.values().forEach(BackendPool::evict), 1, 1, TimeUnit.SECONDS);
        sweeper.scheduleWithFixedDelay(() -> pools.values().forEach(BackendPool::expireWaiters), 50, 50,
                TimeUnit.MILLISECONDS);
    }

    public BackendPool pool(Backend backend, String user, String database) {
        BackendPool existing = pools.get(new PoolKey(backend, user, database));
        if (existing != null) {
            return existing;
        }
        BackendPool[] created = new BackendPool[1];
        BackendPool pool = pools.computeIfAbsent(new PoolKey(backend, user, database), k -> created[0] =
                new BackendPool(k, capped(backend), passwords.apply(user)));
        if (created[0] != null) {
            onNewPool.accept(created[0]);
        }
        return pool;
    }

    /** Called once for every pool created from now on (metrics register its gauges). */
    public void onNewPool(java.util.function.Consumer<BackendPool> listener) {
        this.onNewPool = listener;
        pools.values().forEach(listener);
    }

    /** A server's max_connections caps its pools, so extra work queues in the pool instead of piling up there. */
    private PoolSettings capped(Backend backend) {
        Integer max = backend.maxConnections();
        if (max == null || max >= settings.size()) {
            return settings;
        }
        return settings.withSize(max);
    }

    public Collection<BackendPool> all() {
        return pools.values();
    }

    public void close() {
        pools.values().forEach(BackendPool::close);
    }
}

// The proxy's meters (clients, pools, per-server work, read retries) in a Prometheus registry.
package io.pgbalancer.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.pgbalancer.discovery.ServerCatalog;
import io.pgbalancer.reload.ConfigReloader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgbalancer.session.SessionEvents;
import io.pgbalancer.routing.ReadReason;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolKey;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionTracker;

public final class ProxyMetrics {
    public static final String CLIENTS = "pgbalancer.clients";
    public static final String POOL_CONNECTIONS = "pgbalancer.pool.connections";
    public static final String POOL_WAITING = "pgbalancer.pool.waiting";
    public static final String BACKEND_IN_USE = "pgbalancer.backend.in.use";
    public static final String BACKEND_TRANSACTIONS = "pgbalancer.backend.transactions";
    public static final String READ_RETRIES = "pgbalancer.read.retries";
    public static final String READS = "pgbalancer.reads";
    public static final String CAUSAL_WAIT = "pgbalancer.causal.wait";
    public static final String CAUSAL_WAITING = "pgbalancer.causal.waiting";
    public static final String REPLICA_LAG_BYTES = "pgbalancer.replica.lag.bytes";
    public static final String REPLICA_LAG_SECONDS = "pgbalancer.replica.lag.seconds";
    public static final String BACKEND_BANNED = "pgbalancer.backend.banned";
    public static final String BACKEND_UP = "pgbalancer.backend.up";
    public static final String CHECKOUT_WAIT = "pgbalancer.checkout.wait";
    public static final String CYCLE_LATENCY = "pgbalancer.backend.cycle.latency";
    public static final String SERVER_ERRORS = "pgbalancer.server.errors";
    public static final String BACKEND_IN_RECOVERY = "pgbalancer.backend.in.recovery";
    public static final String BACKEND_WAL_POSITION = "pgbalancer.backend.wal.position";
    public static final String BACKEND_LAST_POLL_AGE = "pgbalancer.backend.last.success.age";

    public static final String CONFIG_RELOADS = "pgbalancer.config.reloads";
    public static final String ENDPOINT_CHANGES = "pgbalancer.endpoint.changes";
    public static final String DISCOVERY_STALE = "pgbalancer.discovery.stale";
    public static final String DISCOVERY_FAILURES = "pgbalancer.discovery.failures";
    public static final String TLS_CERTIFICATE_EXPIRY = "pgbalancer.tls.certificate.expiry";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<BackendNode, List<Meter>> nodeMeters = new ConcurrentHashMap<>();
    private final Map<BackendPool, List<Meter>> poolMeters = new ConcurrentHashMap<>();

    public ProxyMetrics(SessionTracker sessions, PoolRegistry pools, Router router, SessionEvents events,
                        ConfigReloader reloads, ServerCatalog catalog) {
        Gauge.builder(CLIENTS, sessions, SessionTracker::count).description("connected clients").register(registry);
        router.nodes().forEach(this::register);
        router.onChange(change -> {
            change.removed().forEach(this::unregister);
            change.added().forEach(this::register);
        });
        for (ReadReason reason : ReadReason.values()) {
            FunctionCounter.builder(READS, router.reads(), r -> r.total(reason))
                    .tags("target", reason.target(), "reason", reason.label())
                    .description("reads by where they ran and why").register(registry);
        }
        Timer causalWait = Timer.builder(CAUSAL_WAIT).publishPercentileHistogram()
                .description("time reads waited for a replica to replay the position they must see")
                .register(registry);
        Gauge.builder(CAUSAL_WAITING, router.replayWaits(), io.pgbalancer.monitor.ReplayWaits::size)
                .description("reads waiting now for a replica to replay their position").register(registry);
        router.reads().onWait(nanos -> causalWait.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS));
        FunctionCounter.builder(READ_RETRIES, router, Router::retriesOnPrimary)
                .tags("reason", "read_only_transaction")
                .description("reads re-run on the primary after a replica refused them (SQLSTATE 25006)")
                .register(registry);
        FunctionCounter.builder(READ_RETRIES, router, Router::retriesElsewhere).tags("reason", "replica_failure")
                .description("reads re-run on another server after their replica failed before answering")
                .register(registry);
        FunctionCounter.builder(CONFIG_RELOADS, reloads, ConfigReloader::succeeded).tags("result", "ok")
                .description("configuration reloads applied (SIGHUP, RELOAD, file change)").register(registry);
        FunctionCounter.builder(CONFIG_RELOADS, reloads, ConfigReloader::failed).tags("result", "failed")
                .description("configuration reloads rejected; the running configuration stayed").register(registry);
        for (ServerCatalog.SourceState source : catalog.sources()) {
            String name = source.name();
            FunctionCounter.builder(ENDPOINT_CHANGES, catalog, c -> state(c, name).changes()).tags("source", name)
                    .description("new server lists a discovery source reported").register(registry);
            FunctionCounter.builder(DISCOVERY_FAILURES, catalog, c -> state(c, name).failures()).tags("source", name)
                    .description("discovery refreshes that failed (each is retried with backoff)").register(registry);
            Gauge.builder(DISCOVERY_STALE, catalog, c -> state(c, name).problem() == null ? 0 : 1).tags("source", name)
                    .description("1 while a discovery source's last refresh failed (the last servers stay)")
                    .register(registry);
        }
        pools.onNewPool(this::register);
        pools.onPoolGone(this::unregister);
        events.listen(new EventMeters(registry, router));
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new NettyAllocatorMetrics(PooledByteBufAllocator.DEFAULT).bindTo(registry);
    }

    private static ServerCatalog.SourceState state(ServerCatalog catalog, String name) {
        return catalog.sources().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** A server's meters; removed again when a reload removes the server. */
    /** The expiry of the certificate clients get (tls), followed across renewals; NaN while TLS is off. */
    public ProxyMetrics tls(io.pgbalancer.tls.ClientTls tls) {
        Gauge.builder(TLS_CERTIFICATE_EXPIRY, tls, t -> t.current() == null ? Double.NaN
                        : t.current().certificate().getNotAfter().getTime() / 1000.0)
                .baseUnit("seconds")
                .description("when the certificate clients get expires (unix time); alert well before it")
                .register(registry);
        return this;
    }

    private void register(BackendNode node) {
        List<Meter> meters = new ArrayList<>();
        Tags tags = Tags.of("backend", node.backend().host() + ":" + node.backend().port(), "role",
                node.backend().role().yamlName()); // configured: primary, replica or auto
        meters.add(Gauge.builder(BACKEND_IN_USE, node, BackendNode::inUse).tags(tags)
                .description("client transactions holding a connection to this server").register(registry));
        meters.add(FunctionCounter.builder(BACKEND_TRANSACTIONS, node, BackendNode::transactions).tags(tags)
                .description("transactions given to this server").register(registry));
        meters.add(Gauge.builder(BACKEND_BANNED, node, n -> n.isBanned() ? 1 : 0).tags(tags)
                .description("1 while the server takes no reads (it failed, refused or does not answer the"
                        + " monitor)").register(registry));
        meters.add(Gauge.builder(BACKEND_UP, node, n -> n.status().reachable() ? 1 : 0).tags(tags)
                .description("1 when the server answered the monitor's last poll").register(registry));
        meters.add(Gauge.builder(BACKEND_IN_RECOVERY, node, n -> n.status().inRecovery() ? 1 : 0).tags(tags)
                .description("1 when the monitor last saw the server in recovery (a standby)").register(registry));
        meters.add(Gauge.builder(BACKEND_WAL_POSITION, node, n -> (double) n.status().lsn()).tags(tags).baseUnit("bytes")
                .description("the primary's WAL position, or the standby's replay position, at the last poll")
                .register(registry));
        meters.add(Gauge.builder(BACKEND_LAST_POLL_AGE, node, n -> n.status().lastSuccessMillis() == 0 ? Double.NaN
                        : (System.currentTimeMillis() - n.status().lastSuccessMillis()) / 1000.0).tags(tags)
                .baseUnit("seconds").description("time since the server last answered the monitor")
                .register(registry));
        if (!node.isPrimary()) {
            meters.add(Gauge.builder(REPLICA_LAG_BYTES, node, n -> n.status().lagBytes()).tags(tags).baseUnit("bytes")
                    .description("WAL the replica had not replayed at the last poll").register(registry));
            meters.add(Gauge.builder(REPLICA_LAG_SECONDS, node, n -> n.status().lagNanos() / 1e9).tags(tags)
                    .description("how old the newest write the replica lacked at the last poll can be")
                    .register(registry));
        }
        nodeMeters.put(node, meters);
    }

    private void unregister(BackendNode node) {
        List<Meter> meters = nodeMeters.remove(node);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    private synchronized void register(BackendPool pool) {
        Tags tags = Tags.of("backend", pool.key().backend().host() + ":" + pool.key().backend().port(), "user",
                pool.key().user(), "database", pool.key().database());
        // a server removed and added again while its old pool drains: the series follow the new pool (Micrometer
        // would hand back the old pool's gauges, and the old pool's end would remove them)
        for (BackendPool old : List.copyOf(poolMeters.keySet())) {
            PoolKey k = old.key();
            if (old != pool && k.backend().address().equals(pool.key().backend().address())
                    && k.user().equals(pool.key().user()) && k.database().equals(pool.key().database())) {
                poolMeters.remove(old).forEach(registry::remove);
            }
        }
        poolMeters.put(pool, List.of(
                Gauge.builder(POOL_CONNECTIONS, pool, BackendPool::total).tags(tags.and("state", "open"))
                        .description("backend connections of the pool").register(registry),
                Gauge.builder(POOL_CONNECTIONS, pool, BackendPool::idleCount).tags(tags.and("state", "idle"))
                        .register(registry),
                Gauge.builder(POOL_WAITING, pool, BackendPool::waiting).tags(tags)
                        .description("clients waiting for a connection of the pool").register(registry)));
    }

    private synchronized void unregister(BackendPool pool) {
        List<Meter> meters = poolMeters.remove(pool);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }
}

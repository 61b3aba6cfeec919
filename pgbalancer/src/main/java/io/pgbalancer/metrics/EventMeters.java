// Turns session events into meters: checkout wait and per-server cycle latency histograms, server errors by class.
package io.pgbalancer.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionEvents;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Meters are looked up in maps built ahead (servers) or filled once per SQLSTATE class; recording is lock-free. */
final class EventMeters implements SessionEvents.Listener {
    private final MeterRegistry registry;
    private final Timer checkoutWait;
    /** Per server; a reload adds and removes entries (nodes compare by identity). */
    private final Map<BackendNode, Timer> cycleLatency = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();

    EventMeters(MeterRegistry registry, Router router) {
        this.registry = registry;
        this.checkoutWait = Timer.builder(ProxyMetrics.CHECKOUT_WAIT).publishPercentileHistogram()
                .description("time a transaction waited for a backend connection (0 when one was idle)")
                .register(registry);
        router.nodes().forEach(this::add);
        router.onChange(change -> {
            change.removed().forEach(n -> {
                Timer t = cycleLatency.remove(n);
                if (t != null) {
                    registry.remove(t);
                }
            });
            change.added().forEach(this::add);
        });
    }

    private void add(BackendNode n) {
        cycleLatency.put(n, Timer.builder(ProxyMetrics.CYCLE_LATENCY).publishPercentileHistogram()
                .tags("backend", n.backend().address(), "role", n.backend().role().yamlName())
                .description("time from a cycle's first message to the server's ReadyForQuery")
                .register(registry));
    }

    @Override
    public void checkoutWaited(long nanos) {
        checkoutWait.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void cycle(BackendNode node, long nanos) {
        Timer t = cycleLatency.get(node);
        if (t != null) {
            t.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void error(String sqlStateClass) {
        errors.computeIfAbsent(sqlStateClass, c -> Counter.builder(ProxyMetrics.SERVER_ERRORS)
                .tags("class", c).description("errors servers answered, by SQLSTATE class").register(registry))
                .increment();
    }
}

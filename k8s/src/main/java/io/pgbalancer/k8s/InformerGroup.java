// purpose: the informers of one watcher (EndpointSlices per Service, pods by label) with one health check between them
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every informer retries for ever: an API error (403 before the RBAC exists, 5xx, a dropped connection) never stops
 * one; fabric8 lists and watches again with exponential backoff ({@code watchReconnectInterval} doubled up to 32
 * times). Any add, update or delete (and a listing that found nothing) runs {@code onChange}, as does each informer's
 * first complete listing; {@code onChange} runs on informer threads, possibly concurrently for different informers.
 * A daemon thread runs {@link WatchHealth#check()} every {@link WatchHealth#checkInterval}; its probe lists the
 * watched slices and compares them with the caches ({@link #probe()}).
 */
final class InformerGroup implements AutoCloseable {
    /** The label the EndpointSlice controller puts on each slice: the name of its Service. */
    static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
    private static final Logger LOG = LoggerFactory.getLogger(InformerGroup.class);

    private final String namespace;
    private final Map<String, SharedIndexInformer<EndpointSlice>> slices = new LinkedHashMap<>();
    private final SharedIndexInformer<Pod> pods;
    private final List<SharedIndexInformer<?>> all = new ArrayList<>();
    private final WatchHealth health;
    private final Duration checkInterval;
    private final Runnable onChange;
    private final ScheduledExecutorService checker;
    private final NamespacedKubernetesClient namespaced;
    private final RequestConfig probeConfig;
    private final CacheLag lag = new CacheLag();

    /**
     * @param podLabelKey null: no pod informer; else pods of the namespace that carry this label are watched
     */
    InformerGroup(KubernetesClient client, String namespace, List<String> services, String podLabelKey,
                  Duration staleAfter, String what, String forbiddenHint, WatchHealth.Listener healthListener,
                  Runnable onChange) {
        this.namespace = namespace;
        this.onChange = onChange;
        this.checkInterval = WatchHealth.checkInterval(staleAfter);
        String first = services.get(0);
        this.probeConfig = probeConfig(client.getConfiguration(), checkInterval);
        this.namespaced = client.adapt(NamespacedKubernetesClient.class);
        this.health = new WatchHealth(what, forbiddenHint, staleAfter, this::listedAndWatching, this::probe,
                healthListener, System::nanoTime);
        for (String service : services) {
            SharedIndexInformer<EndpointSlice> informer = client.discovery().v1().endpointSlices()
                    .inNamespace(namespace).withLabel(SERVICE_NAME_LABEL, service).runnableInformer(0);
            slices.put(service, prepare(informer));
        }
        pods = podLabelKey == null ? null
                : prepare(client.pods().inNamespace(namespace).withLabel(podLabelKey).runnableInformer(0));
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbalancer-k8s-" + first);
            t.setDaemon(true);
            return t;
        });
    }

    private static RequestConfig probeConfig(Config config, Duration checkInterval) {
        int timeoutMillis = (int) Math.max(1_000, Math.min(10_000, checkInterval.toMillis() * 2));
        return new RequestConfigBuilder(config.getRequestConfig())
                .withRequestRetryBackoffLimit(0)
                .withRequestTimeout(timeoutMillis)
                .build();
    }

    private <T> SharedIndexInformer<T> prepare(SharedIndexInformer<T> informer) {
        informer.exceptionHandler(health::failed);
        informer.addEventHandler(new ResourceEventHandler<T>() {
            @Override
            public void onAdd(T obj) {
                changed();
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                changed();
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                changed();
            }

            @Override
            public void onNothing() {
                changed();
            }
        });
        all.add(informer);
        return informer;
    }

    private void changed() {
        try {
            onChange.run();
        } catch (RuntimeException e) {
            LOG.error("applying a change of the watched resources failed", e);
        }
    }

    /** Starts every informer (without waiting for them) and the periodic health check. */
    void start() {
        for (SharedIndexInformer<?> informer : all) {
            informer.start().whenComplete((v, t) -> {
                if (t == null) {
                    changed();
                }
            });
        }
        checker.scheduleWithFixedDelay(this::check, checkInterval.toMillis(), checkInterval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void check() {
        try {
            health.check();
        } catch (RuntimeException e) {
            LOG.error("the health check of the Kubernetes watch failed", e);
        }
    }

    /** True once every informer has completed its first listing. */
    boolean synced() {
        return all.stream().allMatch(SharedIndexInformer::hasSynced);
    }

    /**
     * Lists the slices of every watched Service (without fabric8's request retries, so that it fails fast) and
     * compares them with the informers' caches as they were just before ({@link CacheLag}: a change the cache has
     * not caught up with by then is at least one check interval old). Throws when the API server cannot be used or
     * the caches are behind it. The comparison starts once every informer has listed.
     */
    private void probe() {
        boolean compare = synced();
        Map<String, String> cached = new HashMap<>();
        slices.values().forEach(i -> i.getStore().list()
                .forEach(s -> cached.put(key(s), s.getMetadata().getResourceVersion())));
        Map<String, String> listed = new HashMap<>();
        for (String service : slices.keySet()) {
            namespaced.withRequestConfig(probeConfig).call(c -> c.discovery().v1().endpointSlices()
                            .inNamespace(namespace).withLabel(SERVICE_NAME_LABEL, service).list())
                    .getItems().forEach(s -> listed.put(key(s), s.getMetadata().getResourceVersion()));
        }
        String behind = lag.check(listed, cached);
        if (compare && behind != null) {
            throw new IllegalStateException(behind);
        }
    }

    private static String key(EndpointSlice s) {
        return s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
    }

    /** Every informer has listed and its watch is open (as far as fabric8 knows). */
    boolean listedAndWatching() {
        return all.stream().allMatch(i -> i.isRunning() && i.hasSynced() && i.isWatching());
    }

    /** The cached EndpointSlices of {@code service}. */
    Collection<EndpointSlice> slices(String service) {
        SharedIndexInformer<EndpointSlice> informer = slices.get(service);
        return informer == null ? List.of() : informer.getStore().list();
    }

    /** The labels of pod {@code name}, null when no watched pod has that name. */
    Map<String, String> podLabels(String name) {
        if (pods == null) {
            return null;
        }
        Pod pod = pods.getStore().getByKey(namespace + "/" + name);
        if (pod == null) {
            return null;
        }
        Map<String, String> labels = pod.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }

    WatchHealth health() {
        return health;
    }

    @Override
    public void close() {
        health.close();
        checker.shutdownNow();
        all.forEach(SharedIndexInformer::close);
    }
}

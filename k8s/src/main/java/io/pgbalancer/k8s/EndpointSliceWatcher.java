// purpose: watches the EndpointSlices of the configured Services and publishes each new endpoint snapshot
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.config.KubernetesRoles;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one informer per watched Service on {@code discovery.k8s.io/v1} EndpointSlices labelled
 * {@code kubernetes.io/service-name=<service>} in the namespace (and, for {@code roles: label}, one on the pods that
 * carry the role label). Each add, update or delete recomputes the whole snapshot ({@link SnapshotBuilder}) and
 * hands it to the listener when it differs from the last one; nothing is published before every informer has listed
 * once. Health: see {@link WatchHealth}; the informers retry for ever, and the listener hears when discovery is stale.
 * <p>
 * The listener's {@code endpoints} calls come from informer threads, serialized by this watcher; {@code health}
 * calls from the watcher's check thread.
 */
public final class EndpointSliceWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointSliceWatcher.class);

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final KubernetesDiscovery settings;
    private final EndpointsListener listener;
    private final SnapshotBuilder builder;
    private final ProblemLog problems = new ProblemLog(LOG);
    private final InformerGroup informers;
    /** The last published snapshot; null before the first. Guarded by this. */
    private List<KubernetesEndpoint> last;
    private boolean closed;

    private EndpointSliceWatcher(KubernetesClient client, boolean ownsClient, KubernetesDiscovery settings,
                                 EndpointsListener listener) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.listener = Objects.requireNonNull(listener, "listener");
        if (settings.roles() == KubernetesRoles.LABEL && settings.label() == null) {
            throw new IllegalArgumentException("discovery.kubernetes.roles is label but no label is configured");
        }
        this.namespace = KubernetesClients.namespace(client, settings);
        List<String> services = watchedServices(settings);
        this.builder = new SnapshotBuilder(settings);
        String what = "the EndpointSlice watch of " + (services.size() == 1 ? "Service " : "Services ")
                + String.join(", ", services) + " in namespace " + namespace;
        String hint = "the ServiceAccount needs " + requiredPermissions(settings).stream().map(RbacRule::toString)
                .reduce((a, b) -> a + " and " + b).orElse("") + " in namespace " + namespace;
        this.informers = new InformerGroup(client, namespace, services,
                settings.roles() == KubernetesRoles.LABEL ? settings.label().key() : null,
                settings.staleAfter(), what, hint, listener::health, this::recompute);
    }

    /**
     * Builds a client the fabric8 default way ({@link KubernetesClients#create()}: in a pod its service account,
     * else {@code KUBECONFIG} or {@code ~/.kube/config}) and starts watching; {@link #close()} closes the client.
     * Returns at once: the first snapshot follows when the informers have listed.
     */
    public static EndpointSliceWatcher connect(KubernetesDiscovery settings, EndpointsListener listener) {
        KubernetesClient client = KubernetesClients.create();
        try {
            return start(new EndpointSliceWatcher(client, true, settings, listener));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** Starts watching with {@code client}, which the caller keeps and closes (after this watcher). */
    public static EndpointSliceWatcher start(KubernetesClient client, KubernetesDiscovery settings,
                                             EndpointsListener listener) {
        return start(new EndpointSliceWatcher(Objects.requireNonNull(client, "client"), false, settings, listener));
    }

    private static EndpointSliceWatcher start(EndpointSliceWatcher watcher) {
        LOG.info("watching EndpointSlices of {} in namespace {} (roles {}, port {})",
                String.join(", ", watchedServices(watcher.settings)), watcher.namespace,
                watcher.settings.roles().yamlName(), watcher.settings.port() == null ? "(the only one)"
                        : watcher.settings.port());
        watcher.informers.start();
        return watcher;
    }

    /**
     * The Services whose EndpointSlices are watched: {@code primaryService} and {@code replicaService} for
     * {@code roles: services} (either may be null: not watched), else {@code service}.
     */
    public static List<String> watchedServices(KubernetesDiscovery settings) {
        List<String> services = new ArrayList<>();
        if (settings.roles() == KubernetesRoles.SERVICES) {
            if (settings.primaryService() != null) {
                services.add(settings.primaryService());
            }
            if (settings.replicaService() != null && !settings.replicaService().equals(settings.primaryService())) {
                services.add(settings.replicaService());
            }
        } else if (settings.service() != null) {
            services.add(settings.service());
        }
        if (services.isEmpty()) {
            throw new IllegalArgumentException("discovery.kubernetes names no Service to watch (roles "
                    + settings.roles().yamlName() + ")");
        }
        return List.copyOf(services);
    }

    /**
     * The RBAC rules this watcher (and {@link PeerBudget}) needs in its namespace: get, list, watch on
     * {@code endpointslices} in {@code discovery.k8s.io}, and for {@code roles: label} on {@code pods} in the core
     * group. Nothing else.
     */
    public static List<RbacRule> requiredPermissions(KubernetesDiscovery settings) {
        List<RbacRule> rules = new ArrayList<>();
        rules.add(new RbacRule("discovery.k8s.io", "endpointslices", RbacRule.READ_VERBS));
        if (settings.roles() == KubernetesRoles.LABEL) {
            rules.add(new RbacRule("", "pods", RbacRule.READ_VERBS));
        }
        return List.copyOf(rules);
    }

    private synchronized void recompute() {
        if (closed || !informers.synced()) {
            return;
        }
        Map<String, Collection<EndpointSlice>> slices = new HashMap<>();
        for (String service : watchedServices(settings)) {
            slices.put(service, informers.slices(service));
        }
        problems.begin();
        List<KubernetesEndpoint> next = builder.build(slices, informers::podLabels, problems);
        problems.end();
        if (!next.equals(last)) {
            last = next;
            LOG.debug("endpoints of {}: {}", namespace, next);
            listener.endpoints(next);
        }
    }

    /** The namespace watched. */
    public String namespace() {
        return namespace;
    }

    /** The last published snapshot; empty before the first. */
    public synchronized List<KubernetesEndpoint> endpoints() {
        return last == null ? List.of() : last;
    }

    /** The problems found in the watched resources by the last computation (each also logged once at WARN). */
    public synchronized List<String> problems() {
        return problems.problems();
    }

    /** As last told to the listener's {@code health}. */
    public boolean stale() {
        return informers.health().stale();
    }

    /** Every informer has listed and opened its watch (tests wait for it before they change anything). */
    boolean watching() {
        return informers.listedAndWatching();
    }

    /** Failed requests to the API server since the start (for a metric). */
    public long failures() {
        return informers.health().failures();
    }

    /** Stops the informers and the health check (and closes the client when {@link #connect} built it). */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        informers.close();
        if (ownsClient) {
            client.close();
        }
    }
}

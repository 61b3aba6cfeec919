// Servers from Kubernetes EndpointSlices (the k8s module's watcher): ready endpoints serve, the rest drain.
package io.pgbalancer.discovery;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgbalancer.config.Backend;
import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.k8s.EndpointSliceWatcher;
import io.pgbalancer.k8s.EndpointsListener;
import io.pgbalancer.k8s.KubernetesEndpoint;
import java.util.ArrayList;
import java.util.List;

/**
 * Only ready endpoints become servers; a terminating or not-ready one leaves the list, so its server drains (running
 * transactions finish, nothing new starts there). The watcher's callbacks come on informer threads and only hand the
 * new list to the catalog. While the API server cannot be reached the last list stays and the source is stale.
 */
public final class KubernetesSource implements EndpointSource {
    private final KubernetesDiscovery settings;
    /** The client to use, or null: fabric8's default (in-cluster service account, or KUBECONFIG / ~/.kube/config). */
    private final KubernetesClient client;
    private EndpointSliceWatcher watcher;

    public KubernetesSource(KubernetesDiscovery settings, KubernetesClient client) {
        this.settings = settings;
        this.client = client;
    }

    @Override
    public String name() {
        return "kubernetes " + String.join(",", EndpointSliceWatcher.watchedServices(settings));
    }

    @Override
    public void start(Listener listener) {
        EndpointsListener adapter = new EndpointsListener() {
            @Override
            public void endpoints(List<KubernetesEndpoint> endpoints) {
                listener.servers(KubernetesSource.this, servers(endpoints, settings));
            }

            @Override
            public void health(boolean stale, String reason) {
                listener.health(KubernetesSource.this, stale ? reason : null);
            }
        };
        watcher = client == null ? EndpointSliceWatcher.connect(settings, adapter)
                : EndpointSliceWatcher.start(client, settings, adapter);
    }

    /** The ready endpoints as servers, with discovery.kubernetes's weight and max_connections. */
    static List<Backend> servers(List<KubernetesEndpoint> endpoints, KubernetesDiscovery settings) {
        List<Backend> servers = new ArrayList<>(endpoints.size());
        for (KubernetesEndpoint e : endpoints) {
            if (e.ready() && !e.terminating()) {
                servers.add(new Backend(e.host(), e.port(), e.role(), settings.weight(), settings.maxConnections()));
            }
        }
        return List.copyOf(servers);
    }

    @Override
    public long failures() {
        return watcher == null ? 0 : watcher.failures();
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
        }
    }
}

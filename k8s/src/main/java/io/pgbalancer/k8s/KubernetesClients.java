// purpose: builds the fabric8 client the default way and tells which namespace discovery watches
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.pgbalancer.config.KubernetesDiscovery;

public final class KubernetesClients {
    /** kubectl's namespace when nothing names one. */
    public static final String DEFAULT_NAMESPACE = "default";

    private KubernetesClients() {
    }

    /**
     * A client configured as fabric8 does by default: inside a pod, its service account (token, CA and namespace
     * under /var/run/secrets/kubernetes.io/serviceaccount); outside, {@code KUBECONFIG} or {@code ~/.kube/config}
     * and its current context. The caller closes it.
     */
    public static KubernetesClient create() {
        return new KubernetesClientBuilder().build();
    }

    /**
     * {@code settings.namespace()} when set, else the client's namespace (in a pod: the pod's own, from the service
     * account; outside: the kubeconfig context's), else {@value #DEFAULT_NAMESPACE}.
     */
    public static String namespace(KubernetesClient client, KubernetesDiscovery settings) {
        if (settings.namespace() != null && !settings.namespace().isBlank()) {
            return settings.namespace();
        }
        return ownNamespace(client);
    }

    /** The client's own namespace: in-cluster, the pod's (where pgbalancer's own Service lives), else "default". */
    public static String ownNamespace(KubernetesClient client) {
        String configured = client.getNamespace();
        return configured != null && !configured.isBlank() ? configured : DEFAULT_NAMESPACE;
    }
}

// purpose: test helper: builds EndpointSlices and pods as the EndpointSlice controller and operators would
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.config.KubernetesRoles;
import java.time.Duration;
import java.util.List;
import java.util.Map;

final class Slices {
    static final List<EndpointPort> POSTGRES = List.of(port("postgres", 5432));

    private Slices() {
    }

    static EndpointPort port(String name, int number) {
        return new EndpointPortBuilder().withName(name).withPort(number).withProtocol("TCP").build();
    }

    /** A slice of {@code service} as the controller names and labels it. */
    static EndpointSlice slice(String name, String service, List<EndpointPort> ports, Endpoint... endpoints) {
        return new EndpointSliceBuilder()
                .withNewMetadata().withName(name).withNamespace(MockApi.NAMESPACE)
                .addToLabels(InformerGroup.SERVICE_NAME_LABEL, service).endMetadata()
                .withAddressType("IPv4")
                .withPorts(ports)
                .withEndpoints(endpoints)
                .build();
    }

    /** A ready pod endpoint. */
    static Endpoint ready(String ip, String pod) {
        return endpoint(ip, pod, true, false);
    }

    /** {@code ready}/{@code terminating} null: the condition is not set. */
    static Endpoint endpoint(String ip, String pod, Boolean ready, Boolean terminating) {
        EndpointBuilder b = new EndpointBuilder().withAddresses(ip)
                .withNewConditions().withReady(ready).withServing(ready).withTerminating(terminating).endConditions();
        if (pod != null) {
            b.withNewTargetRef().withKind("Pod").withName(pod).withNamespace(MockApi.NAMESPACE).endTargetRef();
        }
        return b.build();
    }

    static Pod pod(String name, Map<String, String> labels) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(MockApi.NAMESPACE)
                .withLabels(labels).endMetadata().build();
    }

    static KubernetesDiscovery auto(String service, String port, Duration staleAfter) {
        return new KubernetesDiscovery(null, port, KubernetesRoles.AUTO, service, null, null, null, 1, null, null,
                staleAfter);
    }

    static KubernetesDiscovery services(String primary, String replica) {
        return new KubernetesDiscovery(null, null, KubernetesRoles.SERVICES, null, primary, replica, null, 1, null,
                null, KubernetesDiscovery.DEFAULT_STALE_AFTER);
    }

    static KubernetesDiscovery label(String service, KubernetesDiscovery.RoleLabel label) {
        return new KubernetesDiscovery(null, null, KubernetesRoles.LABEL, service, null, null, label, 1, null, null,
                KubernetesDiscovery.DEFAULT_STALE_AFTER);
    }

    static KubernetesDiscovery peers(String service, Duration staleAfter) {
        return new KubernetesDiscovery(null, null, KubernetesRoles.AUTO, "postgres", null, null, null, 1, 10, service,
                staleAfter);
    }
}

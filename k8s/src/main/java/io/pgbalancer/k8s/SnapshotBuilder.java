// purpose: turns the EndpointSlices of the watched Services (and pod labels) into one sorted endpoint list
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.config.KubernetesRoles;
import io.pgbalancer.config.Role;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * Pure: the same slices and labels give the same list. Rules:
 * <ul>
 *   <li>A Service may have several slices; all are merged. Each endpoint's first address is used (the API says its
 *       addresses are interchangeable), on the port {@link PortSelector} picks for its slice.</li>
 *   <li>Roles: {@code services}: the primary Service's endpoints are {@link Role#PRIMARY} (all of them, even when
 *       several are ready: the consumer keeps at most one), the replica Service's {@link Role#REPLICA}; {@code label}:
 *       from the pod's label ({@link LabelRoles}); {@code auto}: {@link Role#AUTO}.</li>
 *   <li>One endpoint per host:port. When the same one is found twice (in two slices while the controller moves it,
 *       or in both Services) the copies merge: the stronger role (primary, then replica, then auto) and its Service,
 *       ready when any copy is, terminating when no copy is ready and one terminates.</li>
 *   <li>Ready: condition {@code ready} true or unset, and not {@code terminating}.</li>
 * </ul>
 */
final class SnapshotBuilder {
    private final KubernetesDiscovery settings;
    private final PortSelector ports;
    private final LabelRoles labelRoles;

    SnapshotBuilder(KubernetesDiscovery settings) {
        this.settings = settings;
        this.ports = new PortSelector(settings.port());
        this.labelRoles = settings.roles() == KubernetesRoles.LABEL ? new LabelRoles(settings.label()) : null;
    }

    /**
     * @param slicesByService each watched Service's slices (missing: none yet)
     * @param podLabels       the labels of a pod by name, null when unknown (only asked for {@code roles: label})
     */
    List<KubernetesEndpoint> build(Map<String, Collection<EndpointSlice>> slicesByService,
                                   Function<String, Map<String, String>> podLabels, ProblemLog problems) {
        Map<String, KubernetesEndpoint> byAddress = new HashMap<>();
        for (String service : EndpointSliceWatcher.watchedServices(settings)) {
            for (EndpointSlice slice : slicesByService.getOrDefault(service, List.of())) {
                if (slice.getEndpoints() == null || slice.getEndpoints().isEmpty()) {
                    continue;
                }
                OptionalInt port = ports.select(service, slice, problems);
                if (port.isEmpty()) {
                    continue;
                }
                for (Endpoint e : slice.getEndpoints()) {
                    if (e.getAddresses() == null || e.getAddresses().isEmpty()) {
                        continue;
                    }
                    KubernetesEndpoint found = endpoint(service, e, port.getAsInt(), podLabels, problems);
                    byAddress.merge(found.address(), found, SnapshotBuilder::merge);
                }
            }
        }
        return byAddress.values().stream().sorted(KubernetesEndpoint.ORDER).toList();
    }

    private KubernetesEndpoint endpoint(String service, Endpoint e, int port,
                                        Function<String, Map<String, String>> podLabels, ProblemLog problems) {
        String host = e.getAddresses().get(0);
        ObjectReference ref = e.getTargetRef();
        String podName = ref != null && (ref.getKind() == null || "Pod".equals(ref.getKind())) ? ref.getName() : null;
        EndpointConditions c = e.getConditions();
        boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
        boolean ready = !terminating && (c == null || c.getReady() == null || c.getReady());
        Role role = switch (settings.roles()) {
            case SERVICES -> service.equals(settings.primaryService()) ? Role.PRIMARY : Role.REPLICA;
            case LABEL -> labelRoles.role(service, host, podName,
                    podName == null ? null : podLabels.apply(podName), problems);
            case AUTO -> Role.AUTO;
        };
        return new KubernetesEndpoint(host, port, role, ready, terminating, podName, service);
    }

    private static KubernetesEndpoint merge(KubernetesEndpoint a, KubernetesEndpoint b) {
        KubernetesEndpoint strong = rank(b.role()) < rank(a.role()) ? b : a;
        boolean ready = a.ready() || b.ready();
        boolean terminating = !ready && (a.terminating() || b.terminating());
        String podName = strong.podName() != null ? strong.podName() : (strong == a ? b : a).podName();
        return new KubernetesEndpoint(strong.host(), strong.port(), strong.role(), ready, terminating, podName,
                strong.service());
    }

    private static int rank(Role role) {
        return switch (role) {
            case PRIMARY -> 0;
            case REPLICA -> 1;
            case AUTO -> 2;
        };
    }
}

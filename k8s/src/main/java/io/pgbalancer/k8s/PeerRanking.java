// purpose: counts the ready pgbalancer pods in their Service's EndpointSlices and finds this pod's rank among them
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * A peer is a ready, not terminating endpoint, named by its pod ({@code targetRef}) or, without one, its first
 * address; an endpoint listed in two slices counts once. The peers are sorted by name; {@code rank} is this pod's
 * position. When this pod is not among them (not ready yet, terminating, or {@code podName} unknown) it counts as
 * one more peer, ranked last.
 */
record PeerRanking(int count, int rank) {
    PeerRanking {
        if (count < 1 || rank < 0 || rank >= count) {
            throw new IllegalArgumentException("rank " + rank + " of " + count + " peers");
        }
    }

    static PeerRanking of(Collection<EndpointSlice> slices, String podName) {
        TreeSet<String> ready = new TreeSet<>();
        for (EndpointSlice slice : slices) {
            for (Endpoint e : slice.getEndpoints() == null ? List.<Endpoint>of() : slice.getEndpoints()) {
                EndpointConditions c = e.getConditions();
                boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
                boolean isReady = !terminating && (c == null || c.getReady() == null || c.getReady());
                String name = e.getTargetRef() != null && e.getTargetRef().getName() != null
                        ? e.getTargetRef().getName()
                        : e.getAddresses() == null || e.getAddresses().isEmpty() ? null : e.getAddresses().get(0);
                if (isReady && name != null) {
                    ready.add(name);
                }
            }
        }
        if (podName != null && ready.contains(podName)) {
            return new PeerRanking(ready.size(), ready.headSet(podName).size());
        }
        return new PeerRanking(ready.size() + 1, ready.size());
    }
}

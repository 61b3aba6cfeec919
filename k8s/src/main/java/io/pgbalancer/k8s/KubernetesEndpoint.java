// purpose: one server found in an EndpointSlice: address, port, role, and whether it serves or drains
package io.pgbalancer.k8s;

import io.pgbalancer.config.Role;
import java.util.Comparator;
import java.util.Objects;

/**
 * An endpoint of a watched Service. {@code ready}: the endpoint serves (its condition {@code ready} is true or unset,
 * and it is not terminating). {@code terminating}: the pod is shutting down; it is reported (with {@code ready} false)
 * so that the consumer drains it instead of cutting it off. An endpoint neither ready nor terminating is a pod that
 * failed its readiness probe: keep it known, send it nothing new. {@code podName} is the endpoint's
 * {@code targetRef} name, null when the endpoint is not a pod. {@code service} is the Service it was found in (for an
 * address in both Services of {@code roles: services}, the primary's).
 */
public record KubernetesEndpoint(String host, int port, Role role, boolean ready, boolean terminating, String podName,
                                 String service) implements Comparable<KubernetesEndpoint> {
    /** The order of published snapshots: by host, then port (one endpoint per host:port). */
    public static final Comparator<KubernetesEndpoint> ORDER =
            Comparator.comparing(KubernetesEndpoint::host).thenComparingInt(KubernetesEndpoint::port);

    public KubernetesEndpoint {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(service, "service");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
        }
        if (ready && terminating) {
            throw new IllegalArgumentException("a terminating endpoint is not ready");
        }
    }

    /** host:port, with IPv6 literals in brackets. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public int compareTo(KubernetesEndpoint other) {
        return ORDER.compare(this, other);
    }
}

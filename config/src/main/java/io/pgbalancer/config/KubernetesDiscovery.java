// purpose: Kubernetes EndpointSlices as endpoints, with where their roles come from (YAML "discovery.kubernetes")
package io.pgbalancer.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The servers are the ready endpoints of EndpointSlices ({@code discovery.k8s.io/v1}) of Services in
 * {@code namespace} (null: the pod's own namespace). Roles come from {@link #roles}:
 * <ul>
 *   <li>{@code services}: every endpoint of {@code primaryService} is the primary (at most one), every endpoint of
 *       {@code replicaService} a replica (CloudNativePG's {@code -rw}/{@code -ro} Services);</li>
 *   <li>{@code label}: the endpoints of {@code service}, the role read from the pod label {@code label.key}
 *       ({@code label.primary} / {@code label.replica} values, e.g. Patroni's {@code role=master|replica});</li>
 *   <li>{@code auto}: the endpoints of {@code service}, roles from the monitor ({@code pg_is_in_recovery()}).</li>
 * </ul>
 * {@code port} names the endpoint port to use (a name such as {@code postgres} or a number; null: the slice's only
 * port). {@code maxConnections} is each server's connection budget for the whole Deployment: with
 * {@code peersService} set, each pgbalancer pod takes its share (budget / ready pods of that Service).
 * {@code staleAfter}: how long the watch may fail before {@code /ready} reports discovery as stale.
 */
public record KubernetesDiscovery(String namespace, String port, KubernetesRoles roles, String service,
                                  String primaryService, String replicaService, RoleLabel label, int weight,
                                  Integer maxConnections, String peersService, Duration staleAfter) {
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(30);

    /** The pod label that carries a server's role, and its values for the two roles. */
    public record RoleLabel(String key, String primary, String replica) {
        public RoleLabel {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(primary, "primary");
            Objects.requireNonNull(replica, "replica");
        }
    }

    public KubernetesDiscovery {
        Objects.requireNonNull(roles, "roles");
        Objects.requireNonNull(staleAfter, "staleAfter");
    }
}

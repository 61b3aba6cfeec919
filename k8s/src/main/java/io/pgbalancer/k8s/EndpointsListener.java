// purpose: what EndpointSliceWatcher tells its consumer: each new endpoint snapshot, and when discovery goes stale
package io.pgbalancer.k8s;

import java.util.List;

/**
 * Called on the watcher's threads: implementations must only hand the value over (e.g. publish it to a volatile
 * field or queue it for the proxy's own threads) and return; they must not block. Calls of each method are never
 * concurrent with each other and arrive in order.
 */
public interface EndpointsListener {
    /**
     * Every endpoint of the watched Service(s) as of now: immutable, sorted by {@link KubernetesEndpoint#ORDER},
     * different from the previous call's list. The first call comes once every informer has listed its resources.
     */
    void endpoints(List<KubernetesEndpoint> endpoints);

    /**
     * {@code stale} true: the watch has not worked for longer than {@code discovery.kubernetes.stale_after}, so the
     * last endpoints may be out of date (keep using them; report discovery as stale). {@code stale} false: it works
     * again. Only transitions are reported; discovery starts out not stale.
     */
    void health(boolean stale, String reason);
}

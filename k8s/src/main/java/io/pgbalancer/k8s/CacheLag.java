// purpose: tells whether an informer's cache misses changes the API server has listed twice in a row (a dead watch)
package io.pgbalancer.k8s;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An informer whose watch silently stopped delivering (its watch manager reconnecting in a loop, a proxy holding a
 * dead connection) still says it is watching. So each check lists the objects and compares their resource versions
 * with the cache. A difference alone proves nothing (the event may be on its way), but a version listed unchanged by
 * two consecutive checks and still not in the cache, or an object absent from both listings and still cached, has
 * been missed for at least one check interval: the cache is behind. Not thread-safe: one checker thread.
 */
final class CacheLag {
    /** The last listing; null before the first (nothing to compare with). */
    private Map<String, String> previous;

    /**
     * @param listed key (namespace/name) to resourceVersion as the API server listed them just now
     * @param cached the same for the informer's cache, read just before the listing (so that it cannot be ahead)
     * @return null when the cache is not behind, else which objects it misses
     */
    String check(Map<String, String> listed, Map<String, String> cached) {
        if (previous == null) {
            previous = Map.copyOf(listed);
            return null;
        }
        List<String> missed = new ArrayList<>();
        listed.forEach((key, version) -> {
            if (version.equals(previous.get(key)) && !version.equals(cached.get(key))) {
                missed.add(key + (cached.containsKey(key) ? " changed" : " added"));
            }
        });
        cached.keySet().forEach(key -> {
            if (!listed.containsKey(key) && !previous.containsKey(key)) {
                missed.add(key + " deleted");
            }
        });
        previous = Map.copyOf(listed);
        return missed.isEmpty() ? null : "the watch is behind the API server: it missed " + String.join(", ", missed)
                + " (listed by two checks in a row)";
    }
}

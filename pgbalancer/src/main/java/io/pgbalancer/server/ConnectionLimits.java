// Counts client connections from accept, and logged-in connections per user, for limits and auth.users[].max_connections.
package io.pgbalancer.server;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Thread-safe: connections of every event loop count here. */
final class ConnectionLimits {
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> loggedIn = new ConcurrentHashMap<>();

    /** A connection was accepted; returns how many are open now, this one included. */
    int accepted() {
        return open.incrementAndGet();
    }

    void closed() {
        open.decrementAndGet();
    }

    /** Client connections open now, logged in or not. */
    int open() {
        return open.get();
    }

    /**
     * Counts a login of {@code user}; false (and nothing counted) when {@code max} is set and the user already holds
     * that many connections.
     */
    boolean login(String user, Integer max) {
        AtomicInteger count = loggedIn.computeIfAbsent(user, u -> new AtomicInteger());
        if (count.incrementAndGet() > (max == null ? Integer.MAX_VALUE : max)) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    void logout(String user) {
        AtomicInteger count = loggedIn.get(user);
        if (count != null) {
            count.decrementAndGet();
        }
    }
}

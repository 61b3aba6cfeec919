// A client's named prepared statements, mapped to proxy-owned names shared by identical statement text.
package io.pgbalancer.session;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named statements belong to a backend connection, but in transaction pooling a client may run on any of them.
 * Every distinct (query text, parameter types) gets one proxy name for the life of the process; a backend that
 * lacks it gets a hidden Parse before first use. Clients may reuse names freely: the mapping is per client.
 */
final class PreparedStatements {
    private static final Map<Body, String> GLOBAL_NAMES = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong();

    /** The Parse body after the statement name: query text, NUL, parameter type count and OIDs. */
    record Body(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Body b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    record Statement(String backendName, Body body, io.pgbalancer.sql.Classification classification) {
    }

    private Map<String, Statement> byClientName;

    Statement define(String clientName, byte[] body, io.pgbalancer.sql.Classification classification) {
        Body key = new Body(body);
        String backendName = GLOBAL_NAMES.computeIfAbsent(key, k -> "pgbalancer_" + NEXT.incrementAndGet());
        Statement s = new Statement(backendName, key, classification);
        if (byClientName == null) {
            byClientName = new HashMap<>();
        }
        byClientName.put(clientName, s);
        return s;
    }

    Statement get(String clientName) {
        return byClientName == null ? null : byClientName.get(clientName);
    }

    boolean contains(String clientName) {
        return byClientName != null && byClientName.containsKey(clientName);
    }

    void remove(String clientName) {
        if (byClientName != null) {
            byClientName.remove(clientName);
        }
    }

    void clear() {
        byClientName = null;
    }
}

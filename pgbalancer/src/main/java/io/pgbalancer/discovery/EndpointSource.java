// A source of servers besides the static backends list (DNS, Kubernetes): publishes each new list it sees.
package io.pgbalancer.discovery;

import io.pgbalancer.config.Backend;
import java.util.List;

public interface EndpointSource extends AutoCloseable {
    /** What the source watches, for logs, metrics and /ready, e.g. {@code dns pg.db.svc:5432}. */
    String name();

    /**
     * Starts watching. {@code servers} gets every new complete list (immutable; possibly empty), on the source's own
     * thread; {@code health} gets whether the last attempt to refresh failed and why (null when it worked).
     */
    void start(Listener listener);

    /** Refreshes that failed so far (lookups, API requests, watches): each is retried. */
    long failures();

    @Override
    void close();

    /** What a source reports. Calls come from the source's threads and must not block. */
    interface Listener {
        void servers(EndpointSource source, List<Backend> servers);

        void health(EndpointSource source, String problem);
    }
}

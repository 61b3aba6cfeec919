// The servers pgbalancer serves: the static backends plus what each discovery source last reported, merged.
package io.pgbalancer.discovery;

import io.pgbalancer.config.Backend;
import io.pgbalancer.k8s.PeerBudget;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sources publish on their own threads; the catalog only records the new list and hands the merged one to
 * {@code apply} on a single thread of its own, so the router, pools and monitor change in the order events came and
 * never on a source's (or an informer's) thread. A server listed twice keeps its first entry: static backends first,
 * then the sources in configuration order.
 */
public final class ServerCatalog implements EndpointSource.Listener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerCatalog.class);

    /** What the catalog knows of one source. */
    public record SourceState(String name, int servers, long changes, String problem, long failures) {
    }

    private final List<EndpointSource> sources;
    private final Consumer<List<Backend>> apply;
    private final ExecutorService applier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pgbalancer-topology");
        t.setDaemon(true);
        return t;
    });
    private List<Backend> statics;
    private final Map<EndpointSource, List<Backend>> discovered = new LinkedHashMap<>();
    private final Map<EndpointSource, Long> changes = new LinkedHashMap<>();
    private final Map<EndpointSource, String> problems = new LinkedHashMap<>();
    /** With a shared connection budget: the ready pgbalancer pods and this one's rank; null without one. */
    private int[] peers;
    private String peerProblem;

    /** @param apply takes each new merged list; runs on the catalog's thread */
    public ServerCatalog(List<Backend> statics, List<EndpointSource> sources, Consumer<List<Backend>> apply) {
        this.statics = List.copyOf(statics);
        this.sources = List.copyOf(sources);
        this.apply = apply;
        for (EndpointSource s : sources) {
            discovered.put(s, List.of());
            changes.put(s, 0L);
        }
    }

    /** Starts every source; their first lists arrive on their threads. */
    public ServerCatalog start() {
        sources.forEach(s -> s.start(this));
        return this;
    }

    @Override
    public void servers(EndpointSource source, List<Backend> servers) {
        synchronized (this) {
            discovered.put(source, List.copyOf(servers));
            changes.merge(source, 1L, Long::sum);
        }
        applier.execute(() -> apply.accept(merged()));
    }

    @Override
    public synchronized void health(EndpointSource source, String problem) {
        problems.put(source, problem);
    }

    /**
     * Every server's max_connections is a budget for all pgbalancer pods together (discovery.kubernetes.peers): this
     * pod takes its share of it. Until the first count of the pods arrives, it takes one connection per server.
     */
    public synchronized void shareBudget() {
        if (peers == null) {
            peers = new int[] {0, 0};
        }
    }

    /** The ready pgbalancer pods changed: {@code count} of them, this one at {@code rank}; applies the new shares. */
    public void peers(int count, int rank) {
        synchronized (this) {
            peers = new int[] {count, rank};
        }
        log.info("{} pgbalancer pod(s) share each server's max_connections; this one is number {}", count, rank + 1);
        applier.execute(() -> apply.accept(merged()));
    }

    /** A reload changed the static backends; the caller applies {@link #merged()} itself. */
    public synchronized void statics(List<Backend> next) {
        statics = List.copyOf(next);
    }

    /** The static backends, then every source's servers, each address once. */
    public synchronized List<Backend> merged() {
        return mergedWith(statics);
    }

    /** {@link #merged()} with other static backends (a reload not applied yet). */
    public synchronized List<Backend> mergedWith(List<Backend> staticBackends) {
        Map<String, Backend> byAddress = new LinkedHashMap<>();
        List<Backend> all = new ArrayList<>(staticBackends);
        discovered.values().forEach(all::addAll);
        for (Backend b : all) {
            Backend first = byAddress.putIfAbsent(b.address().toLowerCase(Locale.ROOT), b);
            if (first != null && !first.equals(b)) {
                log.debug("{} is listed twice; the first entry wins", b.address());
            }
        }
        if (peers == null) {
            return List.copyOf(byAddress.values());
        }
        List<Backend> shared = new ArrayList<>(byAddress.size());
        for (Backend b : byAddress.values()) {
            Integer budget = b.maxConnections();
            shared.add(budget == null ? b : new Backend(b.host(), b.port(), b.role(), b.weight(),
                    peers[0] == 0 ? 1 : PeerBudget.share(budget, peers[0], peers[1])));
        }
        return List.copyOf(shared);
    }

    /** Each source's state, in configuration order. */
    public synchronized List<SourceState> sources() {
        List<SourceState> out = new ArrayList<>();
        for (EndpointSource s : sources) {
            out.add(new SourceState(s.name(), discovered.get(s).size(), changes.get(s), problems.get(s),
                    s.failures()));
        }
        return out;
    }

    /** The watch of pgbalancer's own pods (the shared budget) failed, or works again (null). */
    public synchronized void peerHealth(String problem) {
        peerProblem = problem;
    }

    /** The first source whose last refresh failed, as "name: problem", or null when none did. */
    public synchronized String staleness() {
        if (peerProblem != null) {
            return "the peer pods' watch (shared max_connections): " + peerProblem;
        }
        for (EndpointSource s : sources) {
            String p = problems.get(s);
            if (p != null) {
                return s.name() + ": " + p;
            }
        }
        return null;
    }

    @Override
    public void close() {
        sources.forEach(EndpointSource::close);
        applier.shutdownNow();
    }
}

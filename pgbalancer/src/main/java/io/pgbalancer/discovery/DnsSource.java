// Servers from DNS: every A/AAAA record of a name (e.g. a headless Service) is a server, resolved every interval.
package io.pgbalancer.discovery;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.DnsDiscovery;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves on a thread of its own, first at once and then every {@code interval}. A failed lookup keeps the last
 * list (the servers keep serving), reports the problem and tries again at the next interval; an empty answer is
 * published as it is (the name has no servers now). Addresses are sorted, so the same answer in another order is no
 * change.
 */
public final class DnsSource implements EndpointSource {
    private static final Logger log = LoggerFactory.getLogger(DnsSource.class);

    private final DnsDiscovery settings;
    private final Resolver resolver;
    private final ScheduledExecutorService timer;
    private List<Backend> last;
    private final java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
    private String lastProblem;

    public DnsSource(DnsDiscovery settings, Resolver resolver) {
        this.settings = settings;
        this.resolver = resolver;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbalancer-dns-" + settings.name());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return "dns " + settings.name() + ":" + settings.port();
    }

    @Override
    public void start(Listener listener) {
        timer.scheduleWithFixedDelay(() -> refresh(listener), 0, settings.interval().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** One lookup; publishes the list when it changed. */
    void refresh(Listener listener) {
        List<InetAddress> addresses;
        try {
            addresses = resolver.resolve(settings.name());
        } catch (UnknownHostException | RuntimeException e) {
            failures.incrementAndGet();
            String problem = "cannot resolve " + settings.name() + ": " + e.getMessage();
            if (!problem.equals(lastProblem)) {
                log.warn("{}; keeping the {} servers it gave before", problem, last == null ? 0 : last.size());
            }
            lastProblem = problem;
            listener.health(this, problem);
            return;
        }
        if (lastProblem != null) {
            log.info("{} resolves again", settings.name());
            lastProblem = null;
        }
        listener.health(this, null);
        List<String> hosts = new ArrayList<>();
        for (InetAddress a : addresses) {
            hosts.add(a.getHostAddress());
        }
        hosts = hosts.stream().distinct().sorted().toList();
        List<Backend> servers = new ArrayList<>(hosts.size());
        for (String host : hosts) {
            servers.add(new Backend(host, settings.port(), settings.role(), settings.weight(),
                    settings.maxConnections()));
        }
        servers = List.copyOf(servers);
        if (!servers.equals(last)) {
            log.info("{}: {} server(s): {}", name(), servers.size(), hosts);
            last = servers;
            listener.servers(this, servers);
        }
    }

    @Override
    public long failures() {
        return failures.get();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}

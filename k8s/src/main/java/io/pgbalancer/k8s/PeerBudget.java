// purpose: splits a connection budget between the ready pgbalancer pods: watches their Service, knows this pod's share
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgbalancer.config.KubernetesDiscovery;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code discovery.kubernetes.peers} set, {@code max_connections} is each server's budget for the whole
 * Deployment, and each pod takes {@link #share(int, int, int)} of it: the pods (ready endpoints of the peers
 * Service, ranked by pod name, see {@link PeerRanking}) split it evenly, the lower ranks taking the remainder, so the
 * ready pods together use exactly the budget. This pod's name comes from {@code POD_NAME} (the downward API's
 * {@code metadata.name}); while it is not ready yet it counts itself as one more peer, ranked last.
 * <p>
 * Limits: each pod takes at least 1, so with fewer connections in the budget than pods the pods together exceed it
 * (each gets 1; a warning is logged). Pods see a peer come or go at slightly different moments, so right after a
 * change the sum can exceed the budget for as long as the slowest pod takes to see it (usually well under a second),
 * and a pod not ready yet takes its share on top of the ready pods'. Before the first listing, {@link #share(int)}
 * is 1.
 */
public final class PeerBudget implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerBudget.class);
    /** The environment variable holding this pod's name. */
    public static final String POD_NAME_ENV = "POD_NAME";

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String service;
    private final String podName;
    private final PeerListener listener;
    private final InformerGroup informers;
    /** Null before the first listing. Guarded by this. */
    private PeerRanking ranking;
    private String lastWarning;
    private boolean closed;

    private PeerBudget(KubernetesClient client, boolean ownsClient, KubernetesDiscovery settings, String podName,
                       PeerListener listener) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.service = settings.peersService();
        if (service == null || service.isBlank()) {
            throw new IllegalArgumentException("discovery.kubernetes.peers is not set");
        }
        this.podName = podName == null || podName.isBlank() ? null : podName;
        this.listener = Objects.requireNonNull(listener, "listener");
        // pgbalancer's own Service is in the pod's namespace, which need not be the database's (settings.namespace)
        String namespace = KubernetesClients.ownNamespace(client);
        String what = "the EndpointSlice watch of pgbalancer's Service " + service + " in namespace " + namespace;
        String hint = "the ServiceAccount needs " + EndpointSliceWatcher.requiredPermissions(settings).get(0)
                + " in namespace " + namespace;
        this.informers = new InformerGroup(client, namespace, List.of(service), null, settings.staleAfter(), what,
                hint, listener::health, this::recompute);
        if (this.podName == null) {
            LOG.warn("{} is not set: this pod cannot find itself among the ready pods of Service {} and counts itself"
                    + " as one more, so the pods together take less than the budget; set it from the downward API"
                    + " (fieldRef metadata.name)", POD_NAME_ENV, service);
        }
    }

    /** Builds a client the fabric8 default way (closed by {@link #close()}); this pod's name from {@code POD_NAME}. */
    public static PeerBudget connect(KubernetesDiscovery settings, PeerListener listener) {
        KubernetesClient client = KubernetesClients.create();
        try {
            return start(new PeerBudget(client, true, settings, System.getenv(POD_NAME_ENV), listener));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** Starts watching {@code settings.peersService()} with {@code client}, which the caller keeps and closes. */
    public static PeerBudget start(KubernetesClient client, KubernetesDiscovery settings, String podName,
                                   PeerListener listener) {
        return start(new PeerBudget(Objects.requireNonNull(client, "client"), false, settings, podName, listener));
    }

    private static PeerBudget start(PeerBudget budget) {
        budget.informers.start();
        return budget;
    }

    /**
     * This pod's part of {@code budget} when {@code peers} pods share it and this one has rank {@code rank}:
     * {@code budget / peers}, plus one for the {@code budget % peers} lowest ranks, at least 1. Over all ranks the
     * shares add up to exactly {@code budget} when {@code budget >= peers}, else to {@code peers} (each takes 1).
     *
     * @throws IllegalArgumentException unless {@code budget >= 1}, {@code peers >= 1} and {@code 0 <= rank < peers}
     */
    public static int share(int budget, int peers, int rank) {
        if (budget < 1 || peers < 1 || rank < 0 || rank >= peers) {
            throw new IllegalArgumentException("share of budget " + budget + " for rank " + rank + " of " + peers
                    + " peers");
        }
        return Math.max(1, budget / peers + (rank < budget % peers ? 1 : 0));
    }

    /**
     * This pod's part of {@code budget} as things stand; 1 before the first listing. Logs a warning (once per
     * situation) when the budget is smaller than the number of pods, as the pods then take more than the budget.
     */
    public synchronized int share(int budget) {
        if (ranking == null) {
            return 1;
        }
        if (budget < ranking.count()) {
            String warning = "a budget of " + budget + (budget == 1 ? " connection" : " connections")
                    + " per server is less than the " + ranking.count()
                    + " pgbalancer pods: each pod takes 1, " + ranking.count() + " in all; raise max_connections"
                    + " or run fewer pods";
            if (!warning.equals(lastWarning)) {
                lastWarning = warning;
                LOG.warn(warning);
            }
        }
        return share(budget, ranking.count(), ranking.rank());
    }

    /** Ready peers including this pod; 1 before the first listing. */
    public synchronized int peers() {
        return ranking == null ? 1 : ranking.count();
    }

    /** This pod's rank among them; 0 before the first listing. */
    public synchronized int rank() {
        return ranking == null ? 0 : ranking.rank();
    }

    /** As last told to the listener's {@code health}. */
    public boolean stale() {
        return informers.health().stale();
    }

    /** Every informer has listed and opened its watch (tests wait for it before they change anything). */
    boolean watching() {
        return informers.listedAndWatching();
    }

    private synchronized void recompute() {
        if (closed || !informers.synced()) {
            return;
        }
        PeerRanking next = PeerRanking.of(informers.slices(service), podName);
        if (!next.equals(ranking)) {
            ranking = next;
            LOG.info("pgbalancer peers in Service {}: {} (this pod, {}, has rank {})", service, next.count(),
                    podName == null ? "POD_NAME unset" : podName, next.rank());
            listener.peers(next.count(), next.rank());
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        informers.close();
        if (ownsClient) {
            client.close();
        }
    }
}

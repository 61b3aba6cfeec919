// purpose: tests EndpointSliceWatcher against fabric8's mock API server (CRUD mode): snapshots, roles, ports, recovery
package io.pgbalancer.k8s;

import static io.pgbalancer.k8s.Slices.POSTGRES;
import static io.pgbalancer.k8s.Slices.endpoint;
import static io.pgbalancer.k8s.Slices.pod;
import static io.pgbalancer.k8s.Slices.port;
import static io.pgbalancer.k8s.Slices.ready;
import static io.pgbalancer.k8s.Slices.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.KubernetesDiscovery;
import io.pgbalancer.config.KubernetesDiscovery.RoleLabel;
import io.pgbalancer.config.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EndpointSliceWatcherTest {
    private static final Duration NEVER_STALE = Duration.ofMinutes(5);

    private MockApi api;
    private final Recorder recorder = new Recorder();
    private final List<AutoCloseable> watchers = new ArrayList<>();

    @BeforeEach
    void start() {
        api = new MockApi();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable w : watchers) {
            w.close();
        }
        api.close();
        assertEquals(List.of(), recorder.violations());
    }

    /** Starts a watcher and waits until it watches (see {@link Await#watching}). */
    private EndpointSliceWatcher watch(KubernetesDiscovery settings) {
        EndpointSliceWatcher w = EndpointSliceWatcher.start(api.client(), settings, recorder);
        watchers.add(w);
        Await.watching(w);
        return w;
    }

    private static KubernetesEndpoint ep(String host, Role role, boolean ready, boolean terminating, String pod,
                                         String service) {
        return new KubernetesEndpoint(host, 5432, role, ready, terminating, pod, service);
    }

    @Test
    void anEndpointAddedThenRemoved() {
        EndpointSliceWatcher watcher = watch(Slices.auto("pg", null, NEVER_STALE));
        assertEquals(List.of(), recorder.next("the first snapshot, after the listing found nothing"));
        assertEquals(MockApi.NAMESPACE, watcher.namespace());

        api.create(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0")));
        assertEquals(List.of(ep("10.0.0.1", Role.AUTO, true, false, "pg-0", "pg")), recorder.next("pg-0 added"));

        api.replace(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0"), ready("10.0.0.2", "pg-1")));
        assertEquals(List.of(ep("10.0.0.1", Role.AUTO, true, false, "pg-0", "pg"),
                ep("10.0.0.2", Role.AUTO, true, false, "pg-1", "pg")), recorder.next("pg-1 added"));

        api.replace(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.2", "pg-1")));
        assertEquals(List.of(ep("10.0.0.2", Role.AUTO, true, false, "pg-1", "pg")), recorder.next("pg-0 removed"));

        api.deleteSlice("pg-abc");
        assertEquals(List.of(), recorder.next("the slice deleted"));
        assertEquals(List.of(), watcher.endpoints());
        assertFalse(watcher.stale());
    }

    @Test
    void notReadyAndTerminatingEndpointsAreReportedAsSuch() {
        api.create(slice("pg-abc", "pg", POSTGRES,
                ready("10.0.0.1", "pg-0"),
                endpoint("10.0.0.2", "pg-1", false, false),
                endpoint("10.0.0.3", "pg-2", false, true),
                endpoint("10.0.0.4", "pg-3", null, null),
                endpoint("10.0.0.5", null, true, false)));
        watch(Slices.auto("pg", null, NEVER_STALE));

        assertEquals(List.of(
                ep("10.0.0.1", Role.AUTO, true, false, "pg-0", "pg"),
                ep("10.0.0.2", Role.AUTO, false, false, "pg-1", "pg"),
                ep("10.0.0.3", Role.AUTO, false, true, "pg-2", "pg"),
                ep("10.0.0.4", Role.AUTO, true, false, "pg-3", "pg"),
                ep("10.0.0.5", Role.AUTO, true, false, null, "pg")), recorder.next("the first snapshot"));

        api.replace(slice("pg-abc", "pg", POSTGRES, endpoint("10.0.0.1", "pg-0", false, true)));
        assertEquals(List.of(ep("10.0.0.1", Role.AUTO, false, true, "pg-0", "pg")),
                recorder.next("pg-0 terminating, the others gone"));
    }

    @Test
    void theSlicesOfOneServiceAreMerged() {
        api.create(slice("pg-a", "pg", POSTGRES, ready("10.0.0.1", "pg-0"), ready("10.0.0.2", "pg-1")));
        api.create(slice("pg-b", "pg", POSTGRES, ready("10.0.0.3", "pg-2"),
                endpoint("10.0.0.2", "pg-1", false, true)));
        api.create(slice("other-a", "other", POSTGRES, ready("10.0.0.9", "other-0")));
        watch(Slices.auto("pg", null, NEVER_STALE));

        assertEquals(List.of(
                ep("10.0.0.1", Role.AUTO, true, false, "pg-0", "pg"),
                ep("10.0.0.2", Role.AUTO, true, false, "pg-1", "pg"),
                ep("10.0.0.3", Role.AUTO, true, false, "pg-2", "pg")),
                recorder.until(s -> s.size() == 3, "the three endpoints of both slices, not the other Service's"));

        api.deleteSlice("pg-a");
        assertEquals(List.of(
                ep("10.0.0.2", Role.AUTO, false, true, "pg-1", "pg"),
                ep("10.0.0.3", Role.AUTO, true, false, "pg-2", "pg")),
                recorder.next("pg-a deleted: pg-1 only in pg-b now, where it terminates"));
    }

    @Test
    void rolesFromSeparatePrimaryAndReplicaServices() {
        api.create(slice("pg-rw-a", "pg-rw", POSTGRES, ready("10.0.0.1", "pg-1")));
        api.create(slice("pg-ro-a", "pg-ro", POSTGRES, ready("10.0.0.2", "pg-2"), ready("10.0.0.3", "pg-3")));
        watch(Slices.services("pg-rw", "pg-ro"));

        List<KubernetesEndpoint> expected = List.of(
                ep("10.0.0.1", Role.PRIMARY, true, false, "pg-1", "pg-rw"),
                ep("10.0.0.2", Role.REPLICA, true, false, "pg-2", "pg-ro"),
                ep("10.0.0.3", Role.REPLICA, true, false, "pg-3", "pg-ro"));
        assertEquals(expected, recorder.next("the first snapshot, once both informers have listed"));

        // a switchover as CloudNativePG does it: pg-2 joins -rw before it leaves -ro, pg-1 leaves -rw
        api.replace(slice("pg-rw-a", "pg-rw", POSTGRES, ready("10.0.0.1", "pg-1"), ready("10.0.0.2", "pg-2")));
        assertEquals(List.of(
                ep("10.0.0.1", Role.PRIMARY, true, false, "pg-1", "pg-rw"),
                ep("10.0.0.2", Role.PRIMARY, true, false, "pg-2", "pg-rw"),
                ep("10.0.0.3", Role.REPLICA, true, false, "pg-3", "pg-ro")),
                recorder.next("two ready primaries (the consumer keeps one); pg-2, also in -ro, is primary"));
        api.replace(slice("pg-rw-a", "pg-rw", POSTGRES, ready("10.0.0.2", "pg-2")));
        api.replace(slice("pg-ro-a", "pg-ro", POSTGRES, ready("10.0.0.1", "pg-1"), ready("10.0.0.3", "pg-3")));
        assertEquals(List.of(
                ep("10.0.0.1", Role.REPLICA, true, false, "pg-1", "pg-ro"),
                ep("10.0.0.2", Role.PRIMARY, true, false, "pg-2", "pg-rw"),
                ep("10.0.0.3", Role.REPLICA, true, false, "pg-3", "pg-ro")),
                recorder.until(s -> s.get(0).role() == Role.REPLICA && s.get(1).role() == Role.PRIMARY,
                        "pg-2 the primary, pg-1 a replica"));
    }

    @Test
    void rolesFromPatroniPodLabelsFollowAFailover() {
        api.create(pod("pg-0", Map.of("role", "master", "app", "pg")));
        api.create(pod("pg-1", Map.of("role", "replica")));
        api.create(pod("pg-2", Map.of("app", "pg")));
        api.create(pod("pg-3", Map.of("role", "uninitialized")));
        api.create(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0"), ready("10.0.0.2", "pg-1"),
                ready("10.0.0.3", "pg-2"), ready("10.0.0.4", "pg-3")));
        EndpointSliceWatcher watcher = watch(Slices.label("pg", new RoleLabel("role", "master", "replica")));

        assertEquals(List.of(
                ep("10.0.0.1", Role.PRIMARY, true, false, "pg-0", "pg"),
                ep("10.0.0.2", Role.REPLICA, true, false, "pg-1", "pg"),
                ep("10.0.0.3", Role.AUTO, true, false, "pg-2", "pg"),
                ep("10.0.0.4", Role.AUTO, true, false, "pg-3", "pg")),
                recorder.next("the first snapshot, once slices and pods are listed"));
        assertEquals(2, watcher.problems().size(), watcher.problems().toString());
        assertTrue(watcher.problems().get(0).contains("pg-2 (endpoint 10.0.0.3 of Service pg) has no label role"),
                watcher.problems().get(0));
        assertTrue(watcher.problems().get(1).contains("has label role=uninitialized"), watcher.problems().get(1));

        // Patroni fails over: the old master is demoted first, then pg-1 is promoted
        api.replace(pod("pg-0", Map.of("role", "replica", "app", "pg")));
        assertEquals(Role.REPLICA, recorder.next("pg-0 demoted").get(0).role());
        api.replace(pod("pg-1", Map.of("role", "master")));
        assertEquals(List.of(
                ep("10.0.0.1", Role.REPLICA, true, false, "pg-0", "pg"),
                ep("10.0.0.2", Role.PRIMARY, true, false, "pg-1", "pg"),
                ep("10.0.0.3", Role.AUTO, true, false, "pg-2", "pg"),
                ep("10.0.0.4", Role.AUTO, true, false, "pg-3", "pg")), recorder.next("pg-1 promoted"));

        api.replace(pod("pg-3", Map.of())); // still auto: no new snapshot
        api.replace(pod("pg-2", Map.of("role", "replica")));
        assertEquals(Role.REPLICA, recorder.next("pg-2 labelled").get(2).role());
    }

    @Test
    void rolesFromCloudNativePgInstanceRoleLabels() {
        String key = "cnpg.io/instanceRole";
        api.create(pod("cluster-1", Map.of(key, "primary", "cnpg.io/cluster", "cluster")));
        api.create(pod("cluster-2", Map.of(key, "replica", "cnpg.io/cluster", "cluster")));
        api.create(slice("cluster-r-1", "cluster-r", POSTGRES, ready("10.1.0.1", "cluster-1"),
                ready("10.1.0.2", "cluster-2")));
        watch(Slices.label("cluster-r", new RoleLabel(key, "primary", "replica")));

        assertEquals(List.of(
                ep("10.1.0.1", Role.PRIMARY, true, false, "cluster-1", "cluster-r"),
                ep("10.1.0.2", Role.REPLICA, true, false, "cluster-2", "cluster-r")), recorder.next("the roles"));

        // a switchover flips both labels; a snapshot in between may show both as replicas
        api.replace(pod("cluster-1", Map.of(key, "replica", "cnpg.io/cluster", "cluster")));
        api.replace(pod("cluster-2", Map.of(key, "primary", "cnpg.io/cluster", "cluster")));
        assertEquals(List.of(
                ep("10.1.0.1", Role.REPLICA, true, false, "cluster-1", "cluster-r"),
                ep("10.1.0.2", Role.PRIMARY, true, false, "cluster-2", "cluster-r")),
                recorder.until(s -> s.get(1).role() == Role.PRIMARY, "cluster-2 the primary"));
    }

    @Test
    void portSelection() {
        List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> two =
                List.of(port("metrics", 9187), port("postgres", 5433));
        api.create(slice("named-a", "named", two, ready("10.0.0.1", "pg-0")));
        api.create(slice("number-a", "number", two, ready("10.0.0.2", "pg-1")));
        api.create(slice("ambiguous-a", "ambiguous", two, ready("10.0.0.3", "pg-2")));
        api.create(slice("missing-a", "missing", two, ready("10.0.0.4", "pg-3")));
        api.create(slice("only-a", "only", List.of(port(null, 6543)), ready("10.0.0.5", "pg-4")));

        Recorder named = new Recorder();
        Recorder number = new Recorder();
        Recorder ambiguous = new Recorder();
        Recorder missing = new Recorder();
        Recorder only = new Recorder();
        EndpointSliceWatcher ambiguousWatcher;
        EndpointSliceWatcher missingWatcher;
        watchers.add(EndpointSliceWatcher.start(api.client(), Slices.auto("named", "postgres", NEVER_STALE), named));
        watchers.add(EndpointSliceWatcher.start(api.client(), Slices.auto("number", "5433", NEVER_STALE), number));
        watchers.add(ambiguousWatcher =
                EndpointSliceWatcher.start(api.client(), Slices.auto("ambiguous", null, NEVER_STALE), ambiguous));
        watchers.add(missingWatcher =
                EndpointSliceWatcher.start(api.client(), Slices.auto("missing", "pgsql", NEVER_STALE), missing));
        watchers.add(EndpointSliceWatcher.start(api.client(), Slices.auto("only", null, NEVER_STALE), only));

        assertEquals(5433, named.next("by name").get(0).port());
        assertEquals(5433, number.next("by number").get(0).port());
        assertEquals(6543, only.next("the only port").get(0).port());
        assertEquals(List.of(), ambiguous.next("two ports and none configured: none used"));
        assertEquals(List.of(), missing.next("no port of that name: none used"));
        assertEquals(1, ambiguousWatcher.problems().size());
        assertTrue(ambiguousWatcher.problems().get(0).contains("lists 2 ports (metrics 9187, postgres 5433): set"
                + " discovery.kubernetes.port"), ambiguousWatcher.problems().get(0));
        assertTrue(missingWatcher.problems().get(0).contains("has no port named \"pgsql\""),
                missingWatcher.problems().get(0));
        for (Recorder r : List.of(named, number, ambiguous, missing, only)) {
            assertEquals(List.of(), r.violations());
        }
    }

    /**
     * The API refuses the watcher's first list (403, as when the Role is applied after the Deployment): fabric8's
     * default would stop an informer whose first list fails; this one retries, reports stale after stale_after, and
     * recovers once the API answers.
     */
    @Test
    void anInitialListThatIsRefusedIsRetriedUntilItWorks() {
        api.create(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0")));
        api.failWith(403);
        EndpointSliceWatcher watcher = EndpointSliceWatcher.start(api.client(),
                Slices.auto("pg", null, Duration.ofMillis(300)), recorder);
        watchers.add(watcher);

        Recorder.Health stale = recorder.nextHealth("stale");
        assertTrue(stale.stale());
        assertTrue(stale.reason().contains("Forbidden") && stale.reason().contains("get, list, watch on"
                + " endpointslices.discovery.k8s.io in namespace test"), stale.reason());
        assertTrue(watcher.stale());
        assertTrue(watcher.failures() > 0);
        assertTrue(recorder.noSnapshotPending(), "nothing published before the first listing");

        api.answer();
        assertEquals(List.of(ep("10.0.0.1", Role.AUTO, true, false, "pg-0", "pg")), recorder.next("the listing"));
        Recorder.Health recovered = recorder.nextHealth("recovered");
        assertFalse(recovered.stale());
        assertTrue(recovered.reason().startsWith("the EndpointSlice watch of Service pg in namespace test works again"
                + " after"), recovered.reason());
        assertFalse(watcher.stale());
    }

    /**
     * What is simulated: the API server goes away while the watch is established (the mock HTTP server shuts down,
     * dropping the WebSocket) and comes back answering 500 to everything (lists, watch handshakes, the probe), as a
     * restarting control plane does; then it answers normally. The informer's watch reconnects on its own, the
     * watcher reports stale after stale_after and healthy again, and changes made after the outage arrive.
     * (Not 503: fabric8 answers a 503 on a new watch's WebSocket handshake by switching that watch to an HTTP
     * streaming watch, which a real API server serves and the mock server does not. And the mock server does not
     * replay events missed during the outage, as a real one would from the resource version, so the test changes
     * things only after recovery.)
     */
    @Test
    void theWatchRecoversAfterTheApiServerWasAway() {
        api.create(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0")));
        EndpointSliceWatcher watcher = watch(Slices.auto("pg", null, Duration.ofMillis(300)));
        assertEquals(1, recorder.next("the first snapshot").size());

        api.failWith(500);
        api.restart();
        Recorder.Health stale = recorder.nextHealth("stale");
        assertTrue(stale.stale());
        assertTrue(stale.reason().startsWith("discovery is stale: the EndpointSlice watch of Service pg in namespace"
                + " test has not worked for"), stale.reason());
        assertEquals(List.of(ep("10.0.0.1", Role.AUTO, true, false, "pg-0", "pg")), watcher.endpoints(),
                "the last known endpoints stay");

        api.answer();
        assertFalse(recorder.nextHealth("recovered").stale());
        api.replace(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0"), ready("10.0.0.2", "pg-1")));
        assertEquals(2, recorder.until(s -> s.size() == 2, "the change after the outage").size());
    }

    /**
     * What is simulated: the watch connection stays open but delivers nothing (the mock server moves the watch onto a
     * mute WebSocket), while lists work. fabric8 still says the informer is watching; the watcher's check lists the
     * slices, sees a change its cache has missed for two checks in a row, and reports stale. Once watches deliver
     * again (the watch reconnects to the real dispatcher, which sends the current objects), the change arrives and
     * discovery is healthy again.
     */
    @Test
    void aWatchThatDeliversNothingIsFoundOut() {
        api.create(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0")));
        EndpointSliceWatcher watcher = watch(Slices.auto("pg", null, Duration.ofMillis(400)));
        assertEquals(1, recorder.next("the first snapshot").size());

        api.silenceWatches(true);
        api.restart();
        api.replace(slice("pg-abc", "pg", POSTGRES, ready("10.0.0.1", "pg-0"), ready("10.0.0.2", "pg-1")));
        Recorder.Health stale = recorder.nextHealth("stale");
        assertTrue(stale.stale());
        assertTrue(stale.reason().contains("the watch is behind the API server: it missed test/pg-abc changed"),
                stale.reason());
        assertEquals(1, watcher.endpoints().size(), "the change never arrived");

        api.silenceWatches(false);
        api.restart();
        assertEquals(2, recorder.next("the change, once the watch delivers again").size());
        assertFalse(recorder.nextHealth("recovered").stale());
    }

    @Test
    void requiredPermissionsDependOnTheRoleSource() {
        RbacRule slices = new RbacRule("discovery.k8s.io", "endpointslices", List.of("get", "list", "watch"));
        RbacRule pods = new RbacRule("", "pods", List.of("get", "list", "watch"));
        assertEquals(List.of(slices), EndpointSliceWatcher.requiredPermissions(Slices.services("a", "b")));
        assertEquals(List.of(slices), EndpointSliceWatcher.requiredPermissions(Slices.auto("a", null, NEVER_STALE)));
        assertEquals(List.of(slices, pods), EndpointSliceWatcher.requiredPermissions(
                Slices.label("a", new RoleLabel("role", "master", "replica"))));
    }

    @Test
    void theNamespaceIsTheConfiguredOneElseTheClients() {
        KubernetesDiscovery inDb = new KubernetesDiscovery("db", null, io.pgbalancer.config.KubernetesRoles.AUTO,
                "pg", null, null, null, 1, null, null, NEVER_STALE);
        assertEquals("db", KubernetesClients.namespace(api.admin, inDb));
        assertEquals(MockApi.NAMESPACE, KubernetesClients.namespace(api.admin, Slices.auto("pg", null, NEVER_STALE)));
    }
}

// purpose: tests PeerBudget: the share arithmetic exhaustively, and peers coming and going on the mock API server
package io.pgbalancer.k8s;

import static io.pgbalancer.k8s.Slices.endpoint;
import static io.pgbalancer.k8s.Slices.port;
import static io.pgbalancer.k8s.Slices.ready;
import static io.pgbalancer.k8s.Slices.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerBudgetTest {
    private static final List<EndpointPort> PORTS = List.of(port("pg", 6432), port("http", 9930));

    @Test
    void sharesAddUpToTheBudgetWheneverItCoversEveryPeer() {
        for (int peers = 1; peers <= 12; peers++) {
            for (int budget = 1; budget <= 60; budget++) {
                int sum = 0;
                int min = Integer.MAX_VALUE;
                int max = 0;
                for (int rank = 0; rank < peers; rank++) {
                    int share = PeerBudget.share(budget, peers, rank);
                    assertTrue(share >= 1, "at least 1 each");
                    if (rank > 0) {
                        assertTrue(share <= PeerBudget.share(budget, peers, rank - 1), "lower ranks take the rest");
                    }
                    sum += share;
                    min = Math.min(min, share);
                    max = Math.max(max, share);
                }
                String what = "budget " + budget + ", " + peers + " peers";
                if (budget >= peers) {
                    assertEquals(budget, sum, what);
                    assertTrue(max - min <= 1, what + ": even");
                } else {
                    assertEquals(peers, sum, what + ": 1 each, more than the budget");
                }
            }
        }
        assertEquals(4, PeerBudget.share(10, 3, 0));
        assertEquals(3, PeerBudget.share(10, 3, 1));
        assertEquals(3, PeerBudget.share(10, 3, 2));
    }

    @Test
    void invalidArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> PeerBudget.share(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> PeerBudget.share(10, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> PeerBudget.share(10, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> PeerBudget.share(10, 2, -1));
    }

    @Test
    void peersComingAndGoing() {
        try (MockApi api = new MockApi()) {
            Recorder recorder = new Recorder();
            try (PeerBudget budget = PeerBudget.start(api.client(), Slices.peers("pgbalancer", Duration.ofMinutes(5)),
                    "pgb-b", recorder)) {
                recorder.untilPeers(new Recorder.Peers(1, 0)); // nothing listed: this pod alone, not ready yet
                Await.watching(budget);

                api.create(slice("pgbalancer-1", "pgbalancer", PORTS, ready("10.2.0.3", "pgb-c")));
                recorder.untilPeers(new Recorder.Peers(2, 1)); // pgb-c, and this pod not ready yet
                assertEquals(5, budget.share(10));

                api.replace(slice("pgbalancer-1", "pgbalancer", PORTS, ready("10.2.0.3", "pgb-c"),
                        ready("10.2.0.2", "pgb-b")));
                recorder.untilPeers(new Recorder.Peers(2, 0)); // this pod ready: pgb-b before pgb-c
                assertEquals(5, budget.share(10));
                assertEquals(6, budget.share(11));

                api.create(slice("pgbalancer-2", "pgbalancer", PORTS, ready("10.2.0.1", "pgb-a")));
                recorder.untilPeers(new Recorder.Peers(3, 1));
                assertEquals(3, budget.share(10), "10 = 4 (pgb-a) + 3 (pgb-b) + 3 (pgb-c)");
                assertEquals(3, budget.peers());
                assertEquals(1, budget.rank());

                api.replace(slice("pgbalancer-2", "pgbalancer", PORTS, endpoint("10.2.0.1", "pgb-a", false, true)));
                recorder.untilPeers(new Recorder.Peers(2, 0));
                assertEquals(5, budget.share(10), "pgb-a terminating: pgb-b and pgb-c share");

                api.replace(slice("pgbalancer-1", "pgbalancer", PORTS, ready("10.2.0.3", "pgb-c"),
                        endpoint("10.2.0.2", "pgb-b", false, false)));
                recorder.untilPeers(new Recorder.Peers(2, 1));
                assertEquals(5, budget.share(10), "this pod not ready: counted once more, last");
                assertEquals(1, budget.share(1), "a budget below the peers: 1 each (and a warning)");

                api.deleteSlice("pgbalancer-2");
                api.deleteSlice("pgbalancer-1");
                recorder.untilPeers(new Recorder.Peers(1, 0));
            }
            assertEquals(List.of(), recorder.violations());
        }
    }

    @Test
    void withoutPodNameThisPodCountsAsOneMorePeer() {
        try (MockApi api = new MockApi()) {
            api.create(slice("pgbalancer-1", "pgbalancer", PORTS, ready("10.2.0.1", "pgb-a"),
                    ready("10.2.0.2", "pgb-b"), endpoint("10.2.0.3", null, true, false)));
            Recorder recorder = new Recorder();
            try (PeerBudget budget = PeerBudget.start(api.client(), Slices.peers("pgbalancer", Duration.ofMinutes(5)),
                    null, recorder)) {
                recorder.untilPeers(new Recorder.Peers(4, 3)); // pgb-a, pgb-b, 10.2.0.3 (no pod), and this one
                assertEquals(2, budget.share(10));
            }
        }
    }

    @Test
    void beforeTheFirstListingThisPodTakesOne() {
        try (MockApi api = new MockApi()) {
            api.failWith(403);
            Recorder recorder = new Recorder();
            try (PeerBudget budget = PeerBudget.start(api.client(), Slices.peers("pgbalancer", Duration.ofMillis(200)),
                    "pgb-a", recorder)) {
                assertTrue(recorder.nextHealth("stale").stale());
                assertEquals(1, budget.share(10));
                assertEquals(1, budget.peers());
                assertEquals(0, budget.rank());
                api.answer();
                recorder.untilPeers(new Recorder.Peers(1, 0));
                assertEquals(10, budget.share(10), "alone: the whole budget");
            }
        }
    }

    @Test
    void peersMustBeConfigured() {
        try (MockApi api = new MockApi()) {
            assertThrows(IllegalArgumentException.class, () -> PeerBudget.start(api.client(),
                    Slices.auto("pg", null, Duration.ofSeconds(30)), "pgb-a", new Recorder()));
        }
    }
}

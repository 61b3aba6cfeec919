// The replica choice: weights, least work in flight with even tie-breaking, capacity, bans and primary_reads.
package io.pgbalancer.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Balance;
import io.pgbalancer.config.PrimaryReads;
import io.pgbalancer.config.Role;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaSelectorTest {
    private static BackendNode node(int port, Role role, int weight, Integer max) {
        return new BackendNode(new Backend("127.0.0.1", port, role, weight, max));
    }

    private static final BackendNode PRIMARY = node(5432, Role.PRIMARY, 1, null);

    /** Picks {@code n} reads one at a time (each finishes before the next), counting where they went. */
    private static Map<BackendNode, Integer> sequential(ReplicaSelector s, int n) {
        Map<BackendNode, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            BackendNode chosen = s.forRead();
            chosen.checkedOut();
            chosen.checkedIn();
            counts.merge(chosen, 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void leastOutstandingSharesSequentialReadsEvenlyAndByWeight() {
        BackendNode a = node(1, Role.REPLICA, 1, null);
        BackendNode b = node(2, Role.REPLICA, 1, null);
        BackendNode c = node(3, Role.REPLICA, 2, null);
        Map<BackendNode, Integer> counts = sequential(
                new ReplicaSelector(PRIMARY, List.of(a, b, c), Balance.LEAST_OUTSTANDING, PrimaryReads.FALLBACK), 400);
        assertEquals(100, counts.get(a));
        assertEquals(100, counts.get(b));
        assertEquals(200, counts.get(c));
    }

    @Test
    void leastOutstandingAvoidsTheBusyReplica() {
        BackendNode a = node(1, Role.REPLICA, 1, null);
        BackendNode b = node(2, Role.REPLICA, 1, null);
        ReplicaSelector s = new ReplicaSelector(PRIMARY, List.of(a, b), Balance.LEAST_OUTSTANDING,
                PrimaryReads.FALLBACK);
        a.checkedOut();
        a.checkedOut();
        for (int i = 0; i < 10; i++) {
            assertSame(b, s.forRead());
        }
    }

    @Test
    void leastOutstandingCountsClientsQueuedForAConnection() {
        // eight reads at once on a cold pool: each choice must see the clients already waiting on a replica
        BackendNode a = node(1, Role.REPLICA, 1, null);
        BackendNode b = node(2, Role.REPLICA, 1, null);
        BackendNode c = node(3, Role.REPLICA, 1, null);
        ReplicaSelector s = new ReplicaSelector(PRIMARY, List.of(a, b, c), Balance.LEAST_OUTSTANDING,
                PrimaryReads.FALLBACK);
        Map<BackendNode, Integer> chosen = new java.util.HashMap<>();
        for (int i = 0; i < 9; i++) {
            BackendNode n = s.forRead();
            n.waitStarted(); // no connection is free yet: the client queues
            chosen.merge(n, 1, Integer::sum);
        }
        assertEquals(Map.of(a, 3, b, 3, c, 3), chosen);
        a.waitEnded();
        assertEquals(8, a.outstanding() + b.outstanding() + c.outstanding());
    }

    @Test
    void roundRobinIsSmoothAndWeighted() {
        BackendNode a = node(1, Role.REPLICA, 1, null);
        BackendNode b = node(2, Role.REPLICA, 2, null);
        ReplicaSelector s = new ReplicaSelector(PRIMARY, List.of(a, b), Balance.ROUND_ROBIN, PrimaryReads.FALLBACK);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            order.append(s.forRead() == a ? 'a' : 'b');
        }
        assertEquals("babbab", order.toString());
    }

    @Test
    void randomHonoursWeightsRoughly() {
        BackendNode a = node(1, Role.REPLICA, 1, null);
        BackendNode b = node(2, Role.REPLICA, 3, null);
        Map<BackendNode, Integer> counts = sequential(
                new ReplicaSelector(PRIMARY, List.of(a, b), Balance.RANDOM, PrimaryReads.FALLBACK), 20_000);
        double share = counts.get(b) / 20_000.0;
        assertTrue(share > 0.72 && share < 0.78, "weight 3 of 4 got " + share);
    }

    @Test
    void replicasAtCapacityArePassedOverWhileAnotherHasRoom() {
        BackendNode capped = node(1, Role.REPLICA, 1, 1);
        BackendNode free = node(2, Role.REPLICA, 1, null);
        ReplicaSelector s = new ReplicaSelector(PRIMARY, List.of(capped, free), Balance.ROUND_ROBIN,
                PrimaryReads.FALLBACK);
        capped.checkedOut();
        free.checkedOut();
        free.checkedOut();
        for (int i = 0; i < 6; i++) {
            assertSame(free, s.forRead(), "round-robin must skip the replica at max_connections");
        }
    }

    @Test
    void bannedReplicasGetNoReadsAndPrimaryReadsDecideTheFallback() {
        BackendNode a = node(1, Role.REPLICA, 1, null);
        a.ban(java.util.concurrent.TimeUnit.SECONDS.toNanos(5));
        assertSame(PRIMARY, new ReplicaSelector(PRIMARY, List.of(a), Balance.LEAST_OUTSTANDING,
                PrimaryReads.FALLBACK).forRead());
        assertNull(new ReplicaSelector(PRIMARY, List.of(a), Balance.LEAST_OUTSTANDING, PrimaryReads.NEVER).forRead());
        BackendNode b = node(2, Role.REPLICA, 1, null);
        Map<BackendNode, Integer> counts = sequential(
                new ReplicaSelector(PRIMARY, List.of(b), Balance.LEAST_OUTSTANDING, PrimaryReads.ALWAYS), 100);
        assertEquals(50, counts.get(b));
        assertEquals(50, counts.get(PRIMARY), "primary_reads: always puts the primary in the set");
    }

    @Test
    void aBanIsLiftedOnlyByAPollThatStartedAfterIt() {
        BackendNode a = node(1, Role.REPLICA, 1, null);
        long pollBefore = System.nanoTime();
        a.ban(java.util.concurrent.TimeUnit.SECONDS.toNanos(5)); // a client's connection died
        a.unbanIfBannedBefore(pollBefore);
        assertEquals(true, a.isBanned(), "a poll that began before the death says nothing about it");
        a.unbanIfBannedBefore(System.nanoTime());
        assertEquals(false, a.isBanned(), "a poll that began after it and answered lifts it");
    }
}

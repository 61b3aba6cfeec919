// Reads go only to replicas that replayed the read's position and are within max_lag and the read's staleness bound.
package io.pgbalancer.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Balance;
import io.pgbalancer.config.MaxLag;
import io.pgbalancer.config.PrimaryReads;
import io.pgbalancer.config.Role;
import io.pgbalancer.monitor.BackendStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreshReplicaSelectionTest {
    private static final long MS = 1_000_000L;
    private final BackendNode primary = node(1, Role.PRIMARY);
    private final BackendNode a = node(2, Role.REPLICA);
    private final BackendNode b = node(3, Role.REPLICA);

    private static BackendNode node(int port, Role role) {
        return new BackendNode(new Backend("127.0.0.1", port, role, 1, null));
    }

    /** The monitor saw {@code n} at {@code lsn}, {@code lagBytes} and {@code lagMs} behind. */
    private static void seen(BackendNode n, long lsn, long lagBytes, long lagMs) {
        n.status(new BackendStatus(true, true, lsn, lsn, -1, lagBytes, lagMs * MS, System.nanoTime(),
                System.currentTimeMillis(), null));
    }

    private ReplicaSelector selector(MaxLag maxLag, PrimaryReads primaryReads) {
        return new ReplicaSelector(primary, List.of(a, b), Balance.LEAST_OUTSTANDING, primaryReads, maxLag);
    }

    @Test
    void onlyAReplicaThatReplayedTheReadsPositionMayServeIt() {
        seen(a, 1000, 0, 0);
        seen(b, 2000, 0, 0);
        ReplicaSelector s = selector(MaxLag.NONE, PrimaryReads.FALLBACK);
        for (int i = 0; i < 10; i++) {
            assertSame(b, s.forRead(1500, -1));
        }
        assertSame(b, s.forRead(2000, -1), "exactly at the position is enough");
        assertNull(s.forRead(2001, -1), "no replica there yet: the caller waits or uses the primary");
        assertEquals(ReadReason.CONSISTENCY, s.whyNot(-1));
    }

    @Test
    void positionsCompareUnsigned() {
        seen(a, 0x8000_0000_0000_0000L, 0, 0);
        seen(b, 5, 0, 0);
        assertSame(a, selector(MaxLag.NONE, PrimaryReads.FALLBACK).forRead(0x7FFF_FFFF_FFFF_FFFFL, -1));
    }

    @Test
    void aReplicaNeverPolledServesReadsWithoutRequirementsOnly() {
        ReplicaSelector s = selector(MaxLag.NONE, PrimaryReads.FALLBACK);
        assertSame(a.status(), BackendStatus.UNKNOWN);
        assertEquals(true, List.of(a, b).contains(s.forRead(0, -1)));
        assertNull(s.forRead(1, -1));
        assertNull(s.forRead(0, 1000 * MS), "a staleness bound needs a measured lag");
    }

    @Test
    void maxLagInBytesOrTimeKeepsAReplicaOutUntilItIsBackUnder() {
        ReplicaSelector s = selector(new MaxLag(1024L, Duration.ofSeconds(1)), PrimaryReads.FALLBACK);
        seen(a, 10, 4096, 0);
        seen(b, 10, 0, 1500);
        assertNull(s.forRead(0, -1));
        assertEquals(ReadReason.LAG, s.whyNot(-1));
        seen(b, 20, 1024, 1000);
        assertSame(b, s.forRead(0, -1), "at the bound is within it");
    }

    @Test
    void theReadsStalenessBoundIsItsOwnReason() {
        ReplicaSelector s = selector(MaxLag.NONE, PrimaryReads.FALLBACK);
        seen(a, 10, 100, 800);
        seen(b, 10, 100, 600);
        assertSame(b, s.forRead(0, 700 * MS));
        assertNull(s.forRead(0, 500 * MS));
        assertEquals(ReadReason.STALENESS, s.whyNot(500 * MS));
        assertEquals(ReadReason.CONSISTENCY, s.whyNot(700 * MS), "within the bound, only not caught up");
    }

    @Test
    void bannedReplicasAreUnavailableAndPrimaryReadsAlwaysAlwaysQualifies() {
        seen(a, 10, 0, 0);
        seen(b, 10, 0, 0);
        a.ban(Duration.ofMinutes(1).toNanos());
        b.ban(Duration.ofMinutes(1).toNanos());
        assertNull(selector(MaxLag.NONE, PrimaryReads.FALLBACK).forRead(0, -1));
        assertEquals(ReadReason.UNAVAILABLE, selector(MaxLag.NONE, PrimaryReads.FALLBACK).whyNot(-1));
        assertSame(primary, selector(MaxLag.NONE, PrimaryReads.FALLBACK).forRead(), "the old fallback stays");
        assertSame(primary, selector(MaxLag.NONE, PrimaryReads.ALWAYS).forRead(999, -1),
                "the primary has every write");
        b.unban();
        assertSame(b, selector(MaxLag.NONE, PrimaryReads.FALLBACK).forRead(10, -1));
    }
}

// A replica's lag in time is bounded by the age of the newest primary position it has replayed.
package io.pgbalancer.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PrimaryHistoryTest {
    @Test
    void lagIsTheAgeOfTheNewestSampleTheReplicaHasReached() {
        PrimaryHistory h = new PrimaryHistory();
        assertEquals(0, h.lagNanos(0, 100), "nothing known: no lag claimed");
        h.add(100, 1_000);
        h.add(200, 2_000);
        h.add(300, 3_000);
        assertEquals(300, h.latest());
        assertEquals(0, h.lagNanos(300, 5_000), "has the latest position");
        assertEquals(0, h.lagNanos(400, 5_000), "ahead of the last sample");
        assertEquals(5_000 - 2_000, h.lagNanos(250, 5_000), "missing only what came after the 200 sample");
        assertEquals(5_000 - 1_000, h.lagNanos(100, 5_000));
        assertEquals(Long.MAX_VALUE, h.lagNanos(50, 5_000), "older than anything remembered");
    }

    @Test
    void theRingKeepsTheNewestSamples() {
        PrimaryHistory h = new PrimaryHistory();
        for (int i = 1; i <= 1000; i++) {
            h.add(i * 10L, i * 1_000L);
        }
        assertEquals(10_000, h.latest());
        assertEquals(2_000_000 - 999_000, h.lagNanos(9_990, 2_000_000));
        assertEquals(Long.MAX_VALUE, h.lagNanos(10, 2_000_000), "the first samples were overwritten");
    }
}

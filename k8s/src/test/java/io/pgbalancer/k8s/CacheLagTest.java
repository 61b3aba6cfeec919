// purpose: tests CacheLag: only changes listed unchanged by two checks in a row and still missing count as missed
package io.pgbalancer.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheLagTest {
    private final CacheLag lag = new CacheLag();

    @Test
    void theFirstListingHasNothingToCompareWith() {
        assertNull(lag.check(Map.of("ns/a", "1"), Map.of("ns/b", "1")));
    }

    @Test
    void aCacheThatKeepsUpIsNeverBehind() {
        assertNull(lag.check(Map.of("ns/a", "1"), Map.of("ns/a", "1")));
        assertNull(lag.check(Map.of("ns/a", "2"), Map.of("ns/a", "1")), "a change on its way: first sighting");
        assertNull(lag.check(Map.of("ns/a", "2"), Map.of("ns/a", "2")));
        assertNull(lag.check(Map.of(), Map.of("ns/a", "2")), "a deletion on its way");
        assertNull(lag.check(Map.of(), Map.of()));
    }

    @Test
    void aChangeListedTwiceAndStillMissingIsMissed() {
        assertNull(lag.check(Map.of("ns/a", "1"), Map.of("ns/a", "1")));
        assertNull(lag.check(Map.of("ns/a", "2", "ns/b", "5"), Map.of("ns/a", "1")));
        assertEquals("the watch is behind the API server: it missed ns/a changed, ns/b added (listed by two checks"
                + " in a row)", lag.check(Map.of("ns/a", "2", "ns/b", "5"), Map.of("ns/a", "1")).replace(
                "ns/b added, ns/a changed", "ns/a changed, ns/b added"));
    }

    @Test
    void aDeletionAbsentFromTwoListingsAndStillCachedIsMissed() {
        assertNull(lag.check(Map.of("ns/a", "1"), Map.of("ns/a", "1")));
        assertNull(lag.check(Map.of(), Map.of("ns/a", "1")), "absent from one listing: the event may be on its way");
        assertEquals("the watch is behind the API server: it missed ns/a deleted (listed by two checks in a row)",
                lag.check(Map.of(), Map.of("ns/a", "1")));
    }

    @Test
    void aVersionThatKeepsChangingIsNotBlamedOnTheWatch() {
        assertNull(lag.check(Map.of("ns/a", "1"), Map.of("ns/a", "1")));
        assertNull(lag.check(Map.of("ns/a", "2"), Map.of("ns/a", "1")));
        assertNull(lag.check(Map.of("ns/a", "3"), Map.of("ns/a", "2")));
        assertNull(lag.check(Map.of("ns/a", "4"), Map.of("ns/a", "3")));
    }
}

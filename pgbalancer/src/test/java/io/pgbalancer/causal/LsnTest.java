// WAL positions parse and print exactly as PostgreSQL's pg_lsn does, and compare unsigned.
package io.pgbalancer.causal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LsnTest {
    @Test
    void parsesAndPrintsPgLsnText() {
        assertEquals(0x16B3740L, Lsn.parse("0/16B3740"));
        assertEquals("0/16B3740", Lsn.format(Lsn.parse("0/16b3740")));
        assertEquals("FFFFFFFF/FFFFFFFF", Lsn.format(Lsn.parse("FFFFFFFF/FFFFFFFF")));
        assertEquals("0/0", Lsn.format(0));
        assertEquals((1L << 32) | 0xA0, Lsn.parse("1/A0"));
    }

    @Test
    void rejectsAnythingElseWithTheExpectedForm() {
        for (String bad : new String[] {"", "/", "0/", "/1", "123456789/0", "0/123456789", "x/1", "-1/0", "+1/0",
                "0/-1", "1", "0 / 1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lsn.parse(bad), bad);
            assertTrue(e.getMessage().contains("0/16B3740"), e.getMessage());
        }
    }

    @Test
    void comparesUnsignedAndMeasuresDistance() {
        long high = Lsn.parse("FFFFFFFF/0");
        assertTrue(Lsn.reached(high, 5));
        assertFalse(Lsn.reached(5, high));
        assertEquals(high, Lsn.max(5, high));
        assertEquals(0, Lsn.distance(5, high));
        assertEquals(high - 5, Lsn.distance(high, 5));
    }
}

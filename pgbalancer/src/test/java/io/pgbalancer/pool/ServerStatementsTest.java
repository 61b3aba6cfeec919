// purpose: ServerStatements keeps a backend's statements in LRU order, bounded, never closing what the running transaction used
package io.pgbalancer.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ServerStatementsTest {
    @Test
    void addUseRemove() {
        ServerStatements s = new ServerStatements(10);
        assertTrue(s.add("a"), "new on this server");
        assertFalse(s.add("a"), "already there: a use, no second Parse");
        assertTrue(s.use("a"));
        assertFalse(s.use("b"));
        assertTrue(s.contains("a"));
        s.remove("a");
        assertFalse(s.contains("a"));
        assertEquals(0, s.size());
        assertThrows(IllegalArgumentException.class, () -> new ServerStatements(0));
    }

    @Test
    void withinTheLimitNothingIsClosed() {
        ServerStatements s = new ServerStatements(3);
        s.add("a");
        s.add("b");
        s.add("c");
        s.newTransaction();
        assertFalse(s.needsHousekeeping());
        assertEquals(List.of(), s.takeHousekeeping());
        assertEquals(3, s.size());
    }

    @Test
    void beyondTheLimitTheLeastRecentlyUsedGoFirst() {
        ServerStatements s = new ServerStatements(2);
        s.add("a");
        s.add("b");
        s.add("c");
        s.use("a"); // b is now the least recently used
        s.add("d");
        s.newTransaction();
        assertTrue(s.needsHousekeeping());
        assertEquals(List.of("b", "c"), s.takeHousekeeping());
        assertEquals(2, s.size());
        assertTrue(s.contains("a"));
        assertTrue(s.contains("d"));
        assertFalse(s.needsHousekeeping());
    }

    @Test
    void whatTheRunningTransactionUsedIsNeverClosed() {
        ServerStatements s = new ServerStatements(1);
        s.add("old");
        s.newTransaction();
        s.add("x");
        s.add("y");
        // x and y were used since the last transaction boundary: their portals may be open
        assertTrue(s.needsHousekeeping());
        assertEquals(List.of("old"), s.takeHousekeeping());
        assertEquals(2, s.size(), "over the limit until the transaction is over");
        assertFalse(s.needsHousekeeping());
        s.newTransaction();
        s.use("y");
        assertEquals(List.of("x"), s.takeHousekeeping());
        assertTrue(s.contains("y"));
    }

    @Test
    void namesToCloseLaterGoFirstAndAreNotUsable() {
        ServerStatements s = new ServerStatements(5);
        s.add("pgbalancer_7");
        s.closeLater("s1");
        s.closeLater("pgbalancer_7"); // a client chose a proxy-looking name: whatever holds it goes
        assertFalse(s.contains("pgbalancer_7"));
        assertTrue(s.needsHousekeeping());
        s.add("pgbalancer_7"); // a Parse the server skipped after the duplicate's error
        assertEquals(List.of("s1", "pgbalancer_7"), s.takeHousekeeping());
        assertFalse(s.contains("pgbalancer_7"), "the Close drops it whatever it holds");
        assertFalse(s.needsHousekeeping());
    }

    @Test
    void clearForgetsEverythingIncludingPendingCloses() {
        ServerStatements s = new ServerStatements(1);
        s.add("a");
        s.add("b");
        s.closeLater("s1");
        s.clear(); // DISCARD ALL
        assertEquals(0, s.size());
        assertFalse(s.needsHousekeeping());
    }
}

// PAUSE holds new transactions of a database (or all) and RESUME wakes exactly the held ones, once.
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PauseGateTest {
    @Test
    void aPausedDatabaseHoldsItsTransactionsUntilResumedAndOthersRun() {
        PauseGate gate = new PauseGate();
        assertFalse(gate.holds("app"));
        gate.pause("app");
        assertTrue(gate.holds("app"));
        assertFalse(gate.holds("other"));
        AtomicInteger woken = new AtomicInteger();
        gate.await("app", woken::incrementAndGet);
        gate.await("app", woken::incrementAndGet);
        assertEquals(2, gate.heldCount());
        gate.resume("other");
        assertEquals(0, woken.get(), "resuming another database wakes nobody");
        gate.resume("app");
        assertEquals(2, woken.get());
        assertEquals(0, gate.heldCount());
        gate.resume("app");
        assertEquals(2, woken.get(), "each held transaction is woken once");
    }

    @Test
    void pausingEverythingHoldsEveryDatabaseUntilResumeAll() {
        PauseGate gate = new PauseGate();
        gate.pause(PauseGate.ALL);
        assertTrue(gate.holds("app") && gate.holds("other"));
        AtomicInteger woken = new AtomicInteger();
        gate.await("other", woken::incrementAndGet);
        gate.resume(PauseGate.ALL);
        assertFalse(gate.holds("app"));
        assertEquals(1, woken.get());
    }

    @Test
    void aWaiterRegisteredAfterTheResumeIsWokenAtOnce() {
        PauseGate gate = new PauseGate();
        AtomicInteger woken = new AtomicInteger();
        gate.await("app", woken::incrementAndGet); // no pause: a transaction that checked just before RESUME
        assertEquals(1, woken.get());
        assertEquals(0, gate.heldCount());
    }
}

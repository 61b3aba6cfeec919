// PAUSE/RESUME: while a database (or everything) is paused, new transactions wait; running ones finish.
package io.pgbalancer.session;

import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Thread-safe. A checkout asks {@link #holds} before it picks a server; held ones register a wake-up that hops back
 * to their own loop. Transactions already holding a backend are not touched: they finish, and their backends go
 * back to the pools.
 */
public final class PauseGate {
    /** Pauses every database. */
    public static final String ALL = "*";

    private final Set<String> paused = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Held> held = new ConcurrentLinkedQueue<>();

    private record Held(String database, Runnable wake) {
    }

    /** Holds new transactions on {@code database} ({@link #ALL}: on every database). */
    public void pause(String database) {
        paused.add(database);
    }

    /** Lets held and new transactions on {@code database} go ({@link #ALL}: lifts every pause). */
    public void resume(String database) {
        if (database.equals(ALL)) {
            paused.clear();
        } else {
            paused.remove(database);
        }
        for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (!holds(h.database()) && held.remove(h)) {
                h.wake().run();
            }
        }
    }

    /** Whether a new transaction on {@code database} must wait now. */
    public boolean holds(String database) {
        return !paused.isEmpty() && (paused.contains(ALL) || paused.contains(database));
    }

    /** Waits for the pause on {@code database} to end; {@code wake} runs once (on the resuming thread). */
    void await(String database, Runnable wake) {
        held.add(new Held(database, wake));
        if (!holds(database) && held.removeIf(h -> h.wake() == wake)) {
            wake.run(); // resumed between the check and the registration
        }
    }

    /** Clients waiting for a pause to end. */
    public int heldCount() {
        return held.size();
    }
}

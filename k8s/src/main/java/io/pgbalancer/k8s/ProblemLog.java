// purpose: logs each configuration problem found in the watched resources once, again only after it went away
package io.pgbalancer.k8s;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;

/**
 * Snapshots are recomputed on every change, so the same problem (a slice with two ports and no
 * {@code discovery.kubernetes.port}, a pod with an unknown role label) is found again and again. Each computation
 * is a round: {@link #begin()}, {@link #report} for each problem, {@link #end()}. A problem (by its message) is
 * logged at WARN the first round it appears in; a problem absent from a round is forgotten, and logged again if it
 * comes back.
 * Not thread-safe: used under its owner's lock.
 */
final class ProblemLog {
    private final Logger log;
    private Set<String> previous = Set.of();
    private Set<String> current = new LinkedHashSet<>();

    ProblemLog(Logger log) {
        this.log = log;
    }

    void begin() {
        current = new LinkedHashSet<>();
    }

    /** {@code message} says what is wrong and what is done about it; it identifies the problem across rounds. */
    void report(String message) {
        if (current.add(message) && !previous.contains(message)) {
            log.warn(message);
        }
    }

    void end() {
        previous = current;
    }

    /** The problems of the last completed round, in the order they were found. */
    List<String> problems() {
        return List.copyOf(previous);
    }
}

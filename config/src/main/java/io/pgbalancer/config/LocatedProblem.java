// purpose: a ConfigProblem plus the 1-based line/column in the source it refers to (0 = unknown)
package io.pgbalancer.config;

import java.util.Comparator;

record LocatedProblem(ConfigProblem problem, int line, int column) {
    /** Document order; problems without a position go last. */
    static final Comparator<LocatedProblem> DOCUMENT_ORDER = Comparator
            .comparingInt((LocatedProblem p) -> p.line() == 0 ? Integer.MAX_VALUE : p.line())
            .thenComparingInt(LocatedProblem::column);

    static LocatedProblem unlocated(ConfigProblem problem) {
        return new LocatedProblem(problem, 0, 0);
    }
}

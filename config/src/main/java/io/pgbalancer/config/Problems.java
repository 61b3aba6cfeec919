// purpose: collects configuration problems (with source positions) while the YAML tree is walked
package io.pgbalancer.config;

import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.Node;

final class Problems {
    private final List<LocatedProblem> problems = new ArrayList<>();

    /** Records a problem located at the start of {@code at} (which may be null if there is no node). */
    void add(String path, Node at, String message) {
        add(path, at == null ? null : at.getStartMark(), message);
    }

    void add(String path, Mark at, String message) {
        ConfigProblem problem = new ConfigProblem(path, message);
        problems.add(at == null
                ? LocatedProblem.unlocated(problem)
                : new LocatedProblem(problem, at.getLine() + 1, at.getColumn() + 1));
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    /** How many problems have been recorded so far (to tell whether one part of the document was clean). */
    int count() {
        return problems.size();
    }

    /** All problems in document order (stable for problems at the same position). */
    List<LocatedProblem> inDocumentOrder() {
        List<LocatedProblem> sorted = new ArrayList<>(problems);
        sorted.sort(LocatedProblem.DOCUMENT_ORDER);
        return sorted;
    }

    ConfigException toException(String sourceName) {
        return new ConfigException(sourceName, inDocumentOrder());
    }
}

// purpose: thrown when a configuration cannot be loaded; carries every problem found, not just the first
package io.pgbalancer.config;

import java.util.List;
import java.util.stream.Collectors;

public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String sourceName;
    private final transient List<LocatedProblem> located;

    /** For callers that detect problems of their own (no source positions). */
    public ConfigException(List<ConfigProblem> problems) {
        this(null, problems.stream().map(LocatedProblem::unlocated).toList());
    }

    ConfigException(String sourceName, List<LocatedProblem> located) {
        super(located.stream().map(p -> p.problem().toString()).collect(Collectors.joining("\n")));
        if (located.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.sourceName = sourceName;
        this.located = List.copyOf(located);
    }

    /** Every problem found, in document order. */
    public List<ConfigProblem> problems() {
        return located.stream().map(LocatedProblem::problem).toList();
    }

    /** The file name (or other source name) the problems refer to; null if unknown. */
    public String sourceName() {
        return sourceName;
    }

    /**
     * A report for humans: a header line, then one problem per line prefixed with {@code source:line:column}
     * where the position is known, e.g. {@code pgbalancer.yaml:4:3: pool.sise: unknown key (...)}.
     */
    public String report() {
        String source = sourceName == null ? "configuration" : sourceName;
        StringBuilder out = new StringBuilder()
                .append(source).append(": ").append(located.size())
                .append(located.size() == 1 ? " problem" : " problems");
        for (LocatedProblem p : located) {
            out.append("\n  ").append(source);
            if (p.line() > 0) {
                out.append(':').append(p.line()).append(':').append(p.column());
            }
            out.append(": ").append(p.problem());
        }
        return out.toString();
    }
}

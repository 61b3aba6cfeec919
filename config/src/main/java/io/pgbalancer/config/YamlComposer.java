// purpose: turns YAML text into a SnakeYAML node tree using safe, size-capped loader options
package io.pgbalancer.config;

import java.io.StringReader;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.representer.Representer;

/**
 * Only {@link Yaml#compose} is used, so no Java objects are ever constructed from the document; the
 * constructor is nevertheless the {@link SafeConstructor} and SnakeYAML's default tag inspector rejects all
 * global tags ({@code !!java/...} and the like).
 */
final class YamlComposer {
    static final String PATH = "(yaml)";
    /** A pgbalancer config is a few kilobytes; anything near this is a mistake (or an attack). */
    static final int MAX_CODE_POINTS = 1024 * 1024;
    static final int MAX_ALIASES = 50;
    static final int MAX_NESTING_DEPTH = 20;

    private YamlComposer() {
    }

    /** The document's root node, or null if the text is not valid YAML (the problem has been recorded). */
    static Node compose(String text, Problems problems) {
        if (text.codePointCount(0, text.length()) > MAX_CODE_POINTS) {
            problems.add(PATH, (Mark) null, "document is too large (limit " + MAX_CODE_POINTS + " characters)");
            return null;
        }
        try {
            return yaml().compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            problems.add(PATH, e.getProblemMark(), describe(e));
            return null;
        } catch (YAMLException e) {
            problems.add(PATH, (Mark) null, e.getMessage());
            return null;
        }
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setNestingDepthLimit(MAX_NESTING_DEPTH);
        options.setCodePointLimit(MAX_CODE_POINTS);
        options.setMergeOnCompose(true);
        DumperOptions dumperOptions = new DumperOptions();
        return new Yaml(new SafeConstructor(options), new Representer(dumperOptions), dumperOptions, options);
    }

    /**
     * Problem first, then its context: "mapping values are not allowed here at line 3, column 9",
     * "found unexpected end of stream at line 2, column 1 (while scanning a quoted scalar at line 1, column 4)".
     * SnakeYAML's "expected X ... but found Y" pairs are joined into one sentence instead.
     */
    private static String describe(MarkedYAMLException e) {
        String problem = e.getProblem() == null ? "invalid YAML" : e.getProblem().trim();
        String context = e.getContext() == null ? null : e.getContext().trim();
        StringBuilder out = new StringBuilder();
        if (context != null && problem.startsWith("but ")) {
            out.append(context).append(", ").append(problem);
            appendMark(out, e.getProblemMark());
            return out.toString();
        }
        out.append(problem);
        appendMark(out, e.getProblemMark());
        if (context != null) {
            out.append(" (").append(context);
            appendMark(out, e.getContextMark());
            out.append(')');
        }
        return out.toString();
    }

    private static void appendMark(StringBuilder out, Mark mark) {
        if (mark != null) {
            out.append(" at line ").append(mark.getLine() + 1).append(", column ").append(mark.getColumn() + 1);
        }
    }
}

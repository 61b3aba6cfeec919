// purpose: a scalar's text after ${VAR} substitution, and how to show it in "got ..." messages
package io.pgbalancer.config;

import java.util.Set;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;

/** {@code value} is the text after substitution, {@code raw} the text as written in the file. */
record ScalarText(String value, String raw, ScalarNode node) {
    private static final Set<Tag> NUMERIC_LOOKING = Set.of(Tag.INT, Tag.FLOAT, Tag.BOOL);

    boolean substituted() {
        return !value.equals(raw);
    }

    /**
     * How the value appears after "got": YAML numbers and booleans unquoted when a number was expected
     * ({@code got 70000}), everything else quoted ({@code got "twenty"}); a substituted value also shows the
     * reference it came from ({@code got "abc" (from ${PG_PORT})}).
     */
    String describe(boolean numericExpected) {
        if (numericExpected && !substituted() && NUMERIC_LOOKING.contains(node.getTag())) {
            return value;
        }
        String shown = Nodes.quote(value);
        return substituted() ? shown + " (from " + raw + ")" : shown;
    }
}

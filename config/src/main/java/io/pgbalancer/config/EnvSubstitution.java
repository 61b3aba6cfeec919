// purpose: expands ${VAR}, ${VAR:-default} and $$ in string values from a caller-supplied environment map
package io.pgbalancer.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Rules: {@code ${NAME}} is replaced by the variable's value (an unset variable is an error, an empty one
 * is used as is); {@code ${NAME:-default}} uses {@code default} when NAME is unset or empty; {@code $$} is a
 * literal {@code $}; any other {@code $} is kept literally. Substituted values are not expanded again.
 */
final class EnvSubstitution {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** The expanded text, or the errors that prevented expansion (value is null then). */
    record Result(String value, List<String> errors) {
        boolean ok() {
            return errors.isEmpty();
        }
    }

    private final Map<String, String> env;

    EnvSubstitution(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    Result expand(String text) {
        if (text.indexOf('$') < 0) {
            return new Result(text, List.of());
        }
        StringBuilder out = new StringBuilder(text.length());
        List<String> errors = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            if (c == '$' && next == '$') {
                out.append('$');
                i += 2;
            } else if (c == '$' && next == '{') {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    errors.add("unterminated variable reference \"" + text.substring(i) + "\" (missing })");
                    break;
                }
                String reference = text.substring(i + 2, close);
                String value = lookup(reference, errors);
                if (value != null) {
                    out.append(value);
                }
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return errors.isEmpty() ? new Result(out.toString(), List.of()) : new Result(null, List.copyOf(errors));
    }

    private String lookup(String reference, List<String> errors) {
        int separator = reference.indexOf(":-");
        String name = separator < 0 ? reference : reference.substring(0, separator);
        if (!NAME.matcher(name).matches()) {
            errors.add("invalid variable reference \"${" + reference + "}\" (expected ${NAME} or ${NAME:-default})");
            return null;
        }
        String value = env.get(name);
        if (separator >= 0) {
            return value == null || value.isEmpty() ? reference.substring(separator + 2) : value;
        }
        if (value == null) {
            errors.add("environment variable " + name + " is not set");
        }
        return value;
    }
}

// purpose: converts YAML nodes into typed values (after ${VAR} substitution), recording problems instead of throwing
package io.pgbalancer.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Every method returns an empty Optional when the value is unusable, after recording exactly one problem per
 * cause (or one per missing environment variable). Callers never see exceptions.
 */
final class ValueReader {
    static final String POSITIVE_INTEGER = "a positive integer";
    static final String PORT = "an integer between 1 and 65535";

    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");
    private static final Pattern WHITESPACE = Pattern.compile(".*\\s.*", Pattern.DOTALL);

    /** Whether a zero duration is acceptable. */
    enum DurationRule { POSITIVE, ZERO_ALLOWED }

    private final Problems problems;
    private final EnvSubstitution env;
    private final Path baseDirectory;

    /** {@code baseDirectory} (absolute) is where relative file paths in the configuration are resolved. */
    ValueReader(Problems problems, EnvSubstitution env, Path baseDirectory) {
        this.problems = problems;
        this.env = env;
        this.baseDirectory = baseDirectory;
    }

    Problems problems() {
        return problems;
    }

    /** The configuration file's directory, or the working directory for a configuration given as text. */
    Path baseDirectory() {
        return baseDirectory;
    }

    /** A section: absent or null means "all defaults"; anything but a mapping is a problem. */
    MappingReader section(String path, Optional<Node> node, List<String> keys, Node parent) {
        if (node.isEmpty() || Nodes.isNull(node.get())) {
            return MappingReader.empty(path, node.orElse(parent), problems);
        }
        return mapping(path, node.get(), keys).orElseGet(() -> MappingReader.empty(path, node.get(), problems));
    }

    Optional<MappingReader> mapping(String path, Node node, List<String> keys) {
        if (node instanceof MappingNode mapping) {
            return Optional.of(MappingReader.of(path, mapping, keys, problems));
        }
        problems.add(path, node, "expected a mapping, got " + Nodes.kind(node));
        return Optional.empty();
    }

    /** A YAML list; {@code what} names the items for the message ("expected a list of backends"). */
    Optional<List<Node>> list(String path, Node node, String what) {
        if (node instanceof SequenceNode sequence) {
            return Optional.of(sequence.getValue());
        }
        problems.add(path, node, "expected a list of " + what + ", got " + Nodes.kind(node));
        return Optional.empty();
    }

    /** A scalar's text after substitution; non-scalars, nulls and unset variables are problems. */
    Optional<ScalarText> text(String path, Node node, String expectation) {
        if (!(node instanceof ScalarNode scalar) || Nodes.isNull(node)) {
            problems.add(path, node, "expected " + expectation + ", got " + Nodes.kind(node));
            return Optional.empty();
        }
        if (!Nodes.PLAIN_SCALAR_TAGS.contains(scalar.getTag())) {
            problems.add(path, node, "unsupported YAML tag " + scalar.getTag().getValue().replace(Tag.PREFIX, "!!"));
            return Optional.empty();
        }
        EnvSubstitution.Result result = env.expand(scalar.getValue());
        result.errors().forEach(error -> problems.add(path, node, error));
        return result.ok() ? Optional.of(new ScalarText(result.value(), scalar.getValue(), scalar)) : Optional.empty();
    }

    /** Any string; {@code allowEmpty} false rejects "". */
    Optional<String> string(String path, Node node, boolean allowEmpty) {
        String expectation = allowEmpty ? "a string" : "a non-empty string";
        return text(path, node, expectation).flatMap(t -> {
            if (!allowEmpty && t.value().isEmpty()) {
                return fail(path, "expected " + expectation + ", got " + t.describe(false), t);
            }
            return Optional.of(t.value());
        });
    }

    /** A host name or IP address: non-empty, no whitespace. */
    Optional<String> host(String path, Node node) {
        String expectation = "a host name or IP address";
        return text(path, node, expectation).flatMap(t -> {
            if (t.value().isEmpty() || WHITESPACE.matcher(t.value()).matches()) {
                return fail(path, "expected " + expectation + ", got " + t.describe(false), t);
            }
            return Optional.of(t.value());
        });
    }

    /** A decimal integer in [min, max]; {@code expectation} is e.g. {@link #POSITIVE_INTEGER} or {@link #PORT}. */
    Optional<Integer> integer(String path, Node node, long min, long max, String expectation) {
        return text(path, node, expectation).flatMap(t -> {
            Long value = parseDecimal(t.value());
            if (value == null || value < min || value > max) {
                return fail(path, "expected " + expectation + ", got " + t.describe(true), t);
            }
            return Optional.of(value.intValue());
        });
    }

    /** Plain decimal only (no YAML 1.1 hex/octal/underscores); null if malformed or beyond a long. */
    private static Long parseDecimal(String text) {
        if (!INTEGER.matcher(text).matches()) {
            return null;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    Optional<Integer> positiveInteger(String path, Node node) {
        return integer(path, node, 1, Integer.MAX_VALUE, POSITIVE_INTEGER);
    }

    Optional<Integer> port(String path, Node node) {
        return integer(path, node, 1, 65535, PORT);
    }

    /** One of the enum's YAML spellings, e.g. {@code expected one of transaction, session, got "statment"}. */
    <E extends Enum<E>> Optional<E> choice(String path, Node node, Class<E> type, Function<E, String> yamlName) {
        Map<String, E> byName = new LinkedHashMap<>();
        for (E constant : type.getEnumConstants()) {
            byName.put(yamlName.apply(constant), constant);
        }
        String expectation = "one of " + String.join(", ", byName.keySet());
        return text(path, node, expectation).flatMap(t -> {
            E value = byName.get(t.value());
            return value != null ? Optional.of(value) : fail(path, "expected " + expectation + ", got " + t.describe(false), t);
        });
    }

    /** A duration such as 5s; never negative, zero only when {@code rule} allows it. */
    Optional<Duration> duration(String path, Node node, DurationRule rule) {
        return duration(path, node, rule, null, null);
    }

    /**
     * Like {@link #duration(String, Node, DurationRule)}, and at most {@code max} (no bound if null), which
     * messages show as {@code maxText} ("must be at most 60s").
     */
    Optional<Duration> duration(String path, Node node, DurationRule rule, Duration max, String maxText) {
        return text(path, node, DurationParser.EXPECTATION).flatMap(t -> {
            Duration d;
            try {
                d = DurationParser.parse(t.value());
            } catch (ArithmeticException e) {
                return fail(path, "duration is too large, got " + t.describe(false), t);
            }
            if (d == null) {
                return fail(path, "expected " + DurationParser.EXPECTATION + ", got " + t.describe(false), t);
            }
            if (d.isNegative()) {
                return fail(path, "must not be negative, got " + t.describe(false), t);
            }
            if (d.isZero() && rule == DurationRule.POSITIVE) {
                return fail(path, "must be greater than 0, got " + t.describe(false), t);
            }
            if (max != null && d.compareTo(max) > 0) {
                return fail(path, "must be at most " + maxText + ", got " + t.describe(false), t);
            }
            return Optional.of(d);
        });
    }

    /** A byte size such as 256MB within [min, max]; {@code range} is how the bounds are shown ("1kB and 1GiB"). */
    Optional<Integer> size(String path, Node node, int min, int max, String range) {
        return byteCount(path, node, min, max, range).map(Long::intValue);
    }

    /** Like {@link #size}, for bounds beyond an int. */
    Optional<Long> byteCount(String path, Node node, long min, long max, String range) {
        return text(path, node, SizeParser.EXPECTATION).flatMap(t -> {
            Long bytes;
            try {
                bytes = SizeParser.parse(t.value());
            } catch (ArithmeticException e) {
                return fail(path, "must be between " + range + ", got " + t.describe(false), t);
            }
            if (bytes == null) {
                return fail(path, "expected " + SizeParser.EXPECTATION + ", got " + t.describe(false), t);
            }
            if (bytes < min || bytes > max) {
                return fail(path, "must be between " + range + ", got " + t.describe(false), t);
            }
            return Optional.of(bytes);
        });
    }

    private <T> Optional<T> fail(String path, String message, ScalarText at) {
        problems.add(path, at.node(), message);
        return Optional.empty();
    }
}

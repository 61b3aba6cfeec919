// purpose: public entry point: reads a YAML file or string and returns a validated config or every problem
package io.pgbalancer.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.nodes.Node;

public final class ConfigLoader {
    static final String FILE_PATH = "(file)";
    /** UTF-8 needs at most 4 bytes per code point, so this never rejects a document the YAML limit accepts. */
    private static final long MAX_FILE_BYTES = 4L * YamlComposer.MAX_CODE_POINTS;

    private ConfigLoader() {
    }

    /**
     * Loads {@code file} (UTF-8). {@code env} supplies ${VAR} values; pass {@code System.getenv()} in production.
     * Relative file paths in it (tls and backend_tls) are resolved against the file's directory.
     *
     * @throws ConfigException listing every problem, including an unreadable or oversized file
     */
    public static PgBalancerConfig load(Path file, Map<String, String> env) throws ConfigException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(env, "env");
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw fileProblem(file, "file is too large (" + size + " bytes, limit " + MAX_FILE_BYTES + ")");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw fileProblem(file, "cannot read " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw fileProblem(file, "cannot read " + file + ": permission denied");
        } catch (CharacterCodingException e) {
            throw fileProblem(file, "cannot read " + file + ": not valid UTF-8");
        } catch (IOException e) {
            throw fileProblem(file, "cannot read " + file + ": " + e.getMessage());
        }
        return parse(text, env, file.toString(), file.toAbsolutePath().getParent());
    }

    /**
     * Parses YAML text. {@code sourceName} (e.g. the file name) is used in {@link ConfigException#report()}.
     *
     * Relative file paths in it (tls and backend_tls) are resolved against the working directory.
     *
     * @throws ConfigException listing every problem found
     */
    public static PgBalancerConfig parse(String yaml, Map<String, String> env, String sourceName)
            throws ConfigException {
        return parse(yaml, env, sourceName, Path.of("").toAbsolutePath());
    }

    /** Like {@link #parse(String, Map, String)}, resolving relative file paths against {@code baseDirectory}. */
    static PgBalancerConfig parse(String yaml, Map<String, String> env, String sourceName, Path baseDirectory)
            throws ConfigException {
        Objects.requireNonNull(yaml, "yaml");
        Objects.requireNonNull(env, "env");
        String text = yaml.startsWith("\uFEFF") ? yaml.substring(1) : yaml;
        Problems problems = new Problems();
        Node root = YamlComposer.compose(text, problems);
        if (problems.isEmpty()) {
            ValueReader values = new ValueReader(problems, new EnvSubstitution(env), baseDirectory);
            PgBalancerConfig config = ConfigReader.read(root, values).orElse(null);
            if (config != null && problems.isEmpty()) {
                return config;
            }
        }
        throw problems.toException(sourceName);
    }

    private static ConfigException fileProblem(Path file, String message) {
        return new ConfigException(file.toString(),
                List.of(LocatedProblem.unlocated(new ConfigProblem(FILE_PATH, message))));
    }
}

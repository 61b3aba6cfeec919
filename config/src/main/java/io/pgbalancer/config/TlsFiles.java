// purpose: the file keys of the tls and backend_tls sections: paths resolved and checked to be readable PEM files
package io.pgbalancer.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

/**
 * A relative path is resolved against {@link ValueReader#baseDirectory()} (the configuration file's directory, or
 * the working directory for a configuration given as text). A file must be a readable regular file with a PEM block
 * in its first {@value #SCAN_LIMIT} bytes; its contents are not parsed further here.
 */
final class TlsFiles {
    static final String EXPECTATION = "a file path";
    static final String NOT_PEM = "expected a PEM file (-----BEGIN ...)";
    /** Enough for any CA bundle with a long text preamble; a PEM marker further on means a file that is not PEM. */
    static final int SCAN_LIMIT = 1024 * 1024;
    private static final byte[] PEM_MARKER = "-----BEGIN ".getBytes(StandardCharsets.US_ASCII);

    private TlsFiles() {
    }

    /** Whether {@code key} is written with a value other than null (its value may still be invalid). */
    static boolean given(MappingReader section, String key) {
        return section.get(key).filter(n -> !Nodes.isNull(n)).isPresent();
    }

    /** The resolved file of {@code key}; null when the key is absent or null, or its file is unusable (reported). */
    static Path read(ValueReader values, MappingReader section, String key) {
        String path = section.path(key);
        return section.get(key).filter(n -> !Nodes.isNull(n))
                .flatMap(n -> file(values, path, n))
                .orElse(null);
    }

    /** Reports {@code key} as missing, located at its section, unless it is given. */
    static void requireWhen(ValueReader values, MappingReader section, String key, String condition) {
        if (!given(section, key)) {
            values.problems().add(section.path(key), section.node(), "required when " + condition);
        }
    }

    /** A certificate needs its private key and a private key its certificate. */
    static void requirePair(ValueReader values, MappingReader section) {
        if (given(section, "cert")) {
            requireWhen(values, section, "key", "cert is set (the certificate's private key)");
        } else if (given(section, "key")) {
            requireWhen(values, section, "cert", "key is set (the certificate of the private key)");
        }
    }

    private static Optional<Path> file(ValueReader values, String path, Node node) {
        return values.text(path, node, EXPECTATION).flatMap(t -> {
            Path file;
            try {
                file = t.value().isEmpty() ? null : values.baseDirectory().resolve(t.value());
            } catch (InvalidPathException e) {
                file = null;
            }
            if (file == null) {
                values.problems().add(path, node, "expected " + EXPECTATION + ", got " + t.describe(false));
                return Optional.empty();
            }
            Optional<String> problem = check(file);
            problem.ifPresent(message -> values.problems().add(path, node, message));
            return problem.isPresent() ? Optional.empty() : Optional.of(file);
        });
    }

    /** What is wrong with {@code file}, if anything. */
    private static Optional<String> check(Path file) {
        if (!Files.exists(file)) {
            return Optional.of("file not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            String kind = Files.isDirectory(file) ? "a directory" : "a special file";
            return Optional.of("expected a regular file, got " + kind + ": " + file);
        }
        try (InputStream in = Files.newInputStream(file)) {
            if (!containsPemMarker(in)) {
                return Optional.of(NOT_PEM + ", got " + file + " (no -----BEGIN line)");
            }
            return Optional.empty();
        } catch (AccessDeniedException e) {
            return Optional.of("not readable: " + file + " (permission denied)");
        } catch (IOException e) {
            return Optional.of("not readable: " + file + " (" + e.getMessage() + ")");
        }
    }

    private static boolean containsPemMarker(InputStream in) throws IOException {
        byte[] head = in.readNBytes(SCAN_LIMIT);
        outer:
        for (int i = 0; i + PEM_MARKER.length <= head.length; i++) {
            for (int j = 0; j < PEM_MARKER.length; j++) {
                if (head[i + j] != PEM_MARKER[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}

// purpose: one configuration problem: where (a path such as backends[1].port) and what is wrong
package io.pgbalancer.config;

import java.util.Objects;

/**
 * A single problem found while loading the configuration. {@code path} uses dots for mapping keys and
 * {@code [i]} for list indexes ({@code auth.users[0].password}); {@code (yaml)}, {@code (root)} and
 * {@code (file)} are used for problems that concern the whole document or file.
 */
public record ConfigProblem(String path, String message) {
    public ConfigProblem {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    /** {@code pool.size: expected a positive integer, got "twenty"}. */
    @Override
    public String toString() {
        return path + ": " + message;
    }
}

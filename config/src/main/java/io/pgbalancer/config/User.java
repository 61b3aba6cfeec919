// purpose: one client user pgbalancer authenticates; password is null only with auth method trust
package io.pgbalancer.config;

import java.util.Objects;

/** {@code maxConnections}: how many client connections the user may hold at once; null means no own limit. */
public record User(String name, String password, Integer maxConnections) {
    public User {
        Objects.requireNonNull(name, "name");
    }

    /** A user without a connection limit of its own. */
    public User(String name, String password) {
        this(name, password, null);
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "User[name=" + name + ", password=" + (password == null ? "none" : "***")
                + (maxConnections == null ? "" : ", maxConnections=" + maxConnections) + "]";
    }
}

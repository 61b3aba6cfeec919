// purpose: one client user pgbalancer authenticates; password is null only with auth method trust
package io.pgbalancer.config;

import java.util.Objects;

public record User(String name, String password) {
    public User {
        Objects.requireNonNull(name, "name");
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "User[name=" + name + ", password=" + (password == null ? "none" : "***") + "]";
    }
}

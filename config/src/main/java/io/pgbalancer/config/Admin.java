// purpose: the admin console settings (YAML section "admin"): which users may connect to database pgbalancer
package io.pgbalancer.config;

import java.util.List;

/** {@code users} are names from auth.users, without duplicates; empty (the default) disables the console. */
public record Admin(List<String> users) {
    /** The virtual database that opens the admin console. */
    public static final String DATABASE = "pgbalancer";

    public Admin {
        users = List.copyOf(users);
    }

    public static Admin defaults() {
        return new Admin(List.of());
    }

    public boolean isAdmin(String user) {
        return users.contains(user);
    }
}

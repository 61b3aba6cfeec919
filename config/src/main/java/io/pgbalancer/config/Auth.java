// purpose: client authentication settings (YAML section "auth")
package io.pgbalancer.config;

import java.util.List;
import java.util.Objects;

public record Auth(AuthMethod method, List<User> users) {
    public static final AuthMethod DEFAULT_METHOD = AuthMethod.SCRAM_SHA_256;

    public Auth {
        Objects.requireNonNull(method, "method");
        users = List.copyOf(users);
    }
}

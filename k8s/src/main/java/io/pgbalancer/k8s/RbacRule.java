// purpose: one RBAC rule (API group, resource, verbs) the Kubernetes discovery needs in its namespace
package io.pgbalancer.k8s;

import java.util.List;
import java.util.Objects;

/** As in a Role's {@code rules[]}: {@code apiGroup} "" is the core group. */
public record RbacRule(String apiGroup, String resource, List<String> verbs) {
    public static final List<String> READ_VERBS = List.of("get", "list", "watch");

    public RbacRule {
        Objects.requireNonNull(apiGroup, "apiGroup");
        Objects.requireNonNull(resource, "resource");
        verbs = List.copyOf(verbs);
    }

    /** e.g. {@code get, list, watch on endpointslices.discovery.k8s.io}. */
    @Override
    public String toString() {
        return String.join(", ", verbs) + " on " + resource + (apiGroup.isEmpty() ? "" : "." + apiGroup);
    }
}

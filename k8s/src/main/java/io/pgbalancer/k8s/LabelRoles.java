// purpose: maps a pod's role label (Patroni role=master|replica, CloudNativePG cnpg.io/instanceRole=...) to a Role
package io.pgbalancer.k8s;

import io.pgbalancer.config.KubernetesDiscovery.RoleLabel;
import io.pgbalancer.config.Role;
import java.util.Map;

/**
 * {@code label.primary} means {@link Role#PRIMARY}, {@code label.replica} {@link Role#REPLICA}. Anything else (the
 * label missing, an unknown value, no pod behind the endpoint) is {@link Role#AUTO}: the monitor decides, and the
 * problem is reported once.
 */
final class LabelRoles {
    private final RoleLabel label;

    LabelRoles(RoleLabel label) {
        this.label = label;
    }

    /** {@code labels} null: no such pod is known (not created yet in the cache, or without the label at all). */
    Role role(String service, String host, String podName, Map<String, String> labels, ProblemLog problems) {
        if (podName == null) {
            problems.report("endpoint " + host + " of Service " + service + " has no pod (targetRef): its role comes"
                    + " from the monitor");
            return Role.AUTO;
        }
        String value = labels == null ? null : labels.get(label.key());
        if (label.primary().equals(value)) {
            return Role.PRIMARY;
        }
        if (label.replica().equals(value)) {
            return Role.REPLICA;
        }
        problems.report("pod " + podName + " (endpoint " + host + " of Service " + service + ") "
                + (value == null ? "has no label " + label.key() : "has label " + label.key() + "=" + value)
                + ", expected " + label.key() + "=" + label.primary() + " or " + label.replica()
                + ": its role comes from the monitor until then");
        return Role.AUTO;
    }
}

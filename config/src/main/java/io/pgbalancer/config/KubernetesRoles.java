// purpose: where Kubernetes discovery takes each endpoint's role from (YAML "discovery.kubernetes.roles")
package io.pgbalancer.config;

public enum KubernetesRoles {
    /** One Service for the primary, one for the replicas. */
    SERVICES("services"),
    /** A pod label with configured values for primary and replica. */
    LABEL("label"),
    /** The monitor asks each endpoint. */
    AUTO("auto");

    private final String yamlName;

    KubernetesRoles(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}

// purpose: how reads are spread over the usable replicas (each honours backend weights)
package io.pgbalancer.config;

public enum Balance {
    /** The backend with the fewest outstanding requests, weighted. */
    LEAST_OUTSTANDING("least-outstanding"),
    /** Weighted round robin. */
    ROUND_ROBIN("round-robin"),
    /** A weighted random choice. */
    RANDOM("random");

    private final String yamlName;

    Balance(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code least-outstanding}. */
    public String yamlName() {
        return yamlName;
    }
}

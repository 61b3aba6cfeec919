// purpose: whether read-only statements may be sent to the primary
package io.pgbalancer.config;

public enum PrimaryReads {
    /** Reads never go to the primary (a loaded configuration then has at least one replica). */
    NEVER("never"),
    /** Reads go to the primary only when no replica is usable. */
    FALLBACK("fallback"),
    /** The primary is balanced together with the replicas. */
    ALWAYS("always");

    private final String yamlName;

    PrimaryReads(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code fallback}. */
    public String yamlName() {
        return yamlName;
    }
}

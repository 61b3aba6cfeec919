// purpose: how long a client keeps a backend connection: per transaction or for the whole session
package io.pgbalancer.config;

public enum PoolMode {
    TRANSACTION("transaction"),
    SESSION("session");

    private final String yamlName;

    PoolMode(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code transaction}. */
    public String yamlName() {
        return yamlName;
    }
}

// purpose: whether a backend accepts writes (primary) or only reads (replica)
package io.pgbalancer.config;

public enum Role {
    PRIMARY("primary"),
    REPLICA("replica");

    private final String yamlName;

    Role(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code primary}. */
    public String yamlName() {
        return yamlName;
    }
}

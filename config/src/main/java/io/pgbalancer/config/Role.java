// purpose: whether a backend accepts writes (primary), only reads (replica), or is whatever the monitor sees (auto)
package io.pgbalancer.config;

public enum Role {
    PRIMARY("primary"),
    REPLICA("replica"),
    /** The monitor's pg_is_in_recovery() decides, poll by poll: primary when false, replica when true. */
    AUTO("auto");

    private final String yamlName;

    Role(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code primary}. */
    public String yamlName() {
        return yamlName;
    }
}

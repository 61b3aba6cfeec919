// purpose: whose committed writes a read routed to a replica must see (YAML routing.consistency)
package io.pgbalancer.config;

public enum Consistency {
    /** Writes committed by the same client connection. */
    SESSION("session"),
    /** Writes committed through this pgbalancer by any connection of the same user and database. */
    USER("user"),
    /** Every write committed through this pgbalancer before the read began. */
    GLOBAL("global"),
    /** No guarantee: any replica that is up may serve the read. */
    EVENTUAL("eventual");

    private final String yamlName;

    Consistency(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code user}. */
    public String yamlName() {
        return yamlName;
    }
}

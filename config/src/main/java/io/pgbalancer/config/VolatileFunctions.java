// purpose: where statements calling functions that pg_proc marks volatile are routed
package io.pgbalancer.config;

public enum VolatileFunctions {
    /** Volatility is ignored; only write_functions (and the built-in list) force the primary. */
    REPLICA("replica"),
    /** A statement calling any volatile function goes to the primary. */
    PRIMARY("primary");

    private final String yamlName;

    VolatileFunctions(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code replica}. */
    public String yamlName() {
        return yamlName;
    }
}

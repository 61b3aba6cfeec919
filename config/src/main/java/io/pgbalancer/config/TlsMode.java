// purpose: whether clients may or must use TLS towards pgbalancer (YAML tls.mode)
package io.pgbalancer.config;

public enum TlsMode {
    /** No TLS: an SSLRequest is answered with N. */
    DISABLE("disable"),
    /** TLS when the client asks for it, plain connections too. */
    ALLOW("allow"),
    /** Only TLS connections may log in. */
    REQUIRE("require");

    private final String yamlName;

    TlsMode(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code require}. */
    public String yamlName() {
        return yamlName;
    }
}

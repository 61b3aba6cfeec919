// purpose: how pgbalancer uses TLS towards the PostgreSQL servers (YAML backend_tls.mode, libpq's sslmode meanings)
package io.pgbalancer.config;

public enum BackendTlsMode {
    /** Plain connections only. */
    DISABLE("disable"),
    /** TLS when the server offers it, plain otherwise; the certificate is not checked (libpq's default). */
    PREFER("prefer"),
    /** TLS or no connection; the certificate is not checked. */
    REQUIRE("require"),
    /** TLS, and the server's certificate must chain to backend_tls.ca. */
    VERIFY_CA("verify-ca"),
    /** Like verify-ca, and the certificate must also name the host connected to. */
    VERIFY_FULL("verify-full");

    private final String yamlName;

    BackendTlsMode(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code verify-full}. */
    public String yamlName() {
        return yamlName;
    }

    /** Whether the server's certificate must chain to the configured CA (verify-ca, verify-full). */
    public boolean verifiesCa() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }

    /** Whether the server's certificate must match the host name or address connected to (verify-full). */
    public boolean verifiesHost() {
        return this == VERIFY_FULL;
    }
}

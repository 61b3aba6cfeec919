// purpose: whether pgbalancer asks TLS clients for a certificate (YAML tls.client_auth)
package io.pgbalancer.config;

public enum ClientAuth {
    /** No client certificate is requested. */
    NONE("none"),
    /** A client certificate is requested and, when sent, verified against tls.ca. */
    OPTIONAL("optional"),
    /** Every TLS client must present a certificate that verifies against tls.ca. */
    REQUIRE("require");

    private final String yamlName;

    ClientAuth(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code optional}. */
    public String yamlName() {
        return yamlName;
    }
}

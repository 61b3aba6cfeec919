// purpose: the authentication method clients must use towards pgbalancer
package io.pgbalancer.config;

public enum AuthMethod {
    SCRAM_SHA_256("scram-sha-256"),
    MD5("md5"),
    TRUST("trust");

    private final String yamlName;

    AuthMethod(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the YAML file, e.g. {@code scram-sha-256}. */
    public String yamlName() {
        return yamlName;
    }
}

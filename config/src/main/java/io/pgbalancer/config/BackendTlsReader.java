// purpose: reads and validates the "backend_tls" section (pgbalancer to the servers): mode, CA, client certificate
package io.pgbalancer.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

final class BackendTlsReader {
    static final String PATH = "backend_tls";
    static final List<String> KEYS = List.of("mode", "ca", "cert", "key");

    private BackendTlsReader() {
    }

    /** {@link BackendTls#defaults()} when the section is absent or null; verify-ca and verify-full need a ca. */
    static BackendTls read(ValueReader values, MappingReader root) {
        MappingReader backendTls = values.section(PATH, root.get(PATH), KEYS, root.node());
        // Empty when written but invalid (already reported): whether it needs a ca is then not checked.
        Optional<BackendTlsMode> mode = backendTls.read("mode", (path, n) -> values.choice(path, n,
                BackendTlsMode.class, BackendTlsMode::yamlName), BackendTls.DEFAULT_MODE);
        Path ca = TlsFiles.read(values, backendTls, "ca");
        Path cert = TlsFiles.read(values, backendTls, "cert");
        Path key = TlsFiles.read(values, backendTls, "key");
        if (mode.isPresent() && mode.get().verifiesCa()) {
            TlsFiles.requireWhen(values, backendTls, "ca", "mode is " + mode.get().yamlName()
                    + " (the CA that the servers' certificates must chain to)");
        }
        TlsFiles.requirePair(values, backendTls);
        return new BackendTls(mode.orElse(BackendTls.DEFAULT_MODE), ca, cert, key);
    }
}

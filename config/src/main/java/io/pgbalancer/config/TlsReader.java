// purpose: reads and validates the "tls" section (clients to pgbalancer): mode, files, client certificates
package io.pgbalancer.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

final class TlsReader {
    static final String PATH = "tls";
    static final List<String> KEYS = List.of("mode", "cert", "key", "ca", "client_auth");

    private TlsReader() {
    }

    /**
     * {@link Tls#disabled()} when the file has no tls section; a present one (even null) defaults to mode allow,
     * which needs cert and key. Client certificates (client_auth optional or require) need a ca.
     */
    static Tls read(ValueReader values, MappingReader root) {
        Optional<Node> node = root.get(PATH);
        if (node.isEmpty()) {
            return Tls.disabled();
        }
        MappingReader tls;
        if (Nodes.isNull(node.get())) {
            tls = MappingReader.empty(PATH, node.get(), values.problems());
        } else {
            Optional<MappingReader> mapping = values.mapping(PATH, node.get(), KEYS);
            if (mapping.isEmpty()) {
                return Tls.disabled();
            }
            tls = mapping.get();
        }
        // Each empty when written but invalid (already reported): what it needs is then not checked.
        Optional<TlsMode> mode = tls.read("mode", (path, n) -> values.choice(path, n, TlsMode.class,
                TlsMode::yamlName), Tls.DEFAULT_MODE);
        Optional<ClientAuth> clientAuth = tls.read("client_auth", (path, n) -> values.choice(path, n,
                ClientAuth.class, ClientAuth::yamlName), Tls.DEFAULT_CLIENT_AUTH);
        Path cert = TlsFiles.read(values, tls, "cert");
        Path key = TlsFiles.read(values, tls, "key");
        Path ca = TlsFiles.read(values, tls, "ca");
        if (mode.isPresent() && mode.get() != TlsMode.DISABLE) {
            String condition = "mode is " + mode.get().yamlName()
                    + (tls.get("mode").isPresent() ? "" : " (the default when tls is present)");
            TlsFiles.requireWhen(values, tls, "cert", condition);
            TlsFiles.requireWhen(values, tls, "key", condition);
        } else {
            TlsFiles.requirePair(values, tls);
        }
        if (clientAuth.isPresent() && clientAuth.get() != ClientAuth.NONE) {
            TlsFiles.requireWhen(values, tls, "ca", "client_auth is " + clientAuth.get().yamlName()
                    + " (the CA that client certificates must chain to)");
        }
        return new Tls(mode.orElse(Tls.DEFAULT_MODE), cert, key, ca, clientAuth.orElse(Tls.DEFAULT_CLIENT_AUTH));
    }
}

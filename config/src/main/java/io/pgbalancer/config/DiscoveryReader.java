// purpose: reads the "discovery" section: which sources of servers it configures (dns, kubernetes), at least one
package io.pgbalancer.config;

import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

final class DiscoveryReader {
    static final String PATH = "discovery";
    static final List<String> KEYS = List.of("dns", "kubernetes");
    static final String NOTHING_CONFIGURED = "configure dns or kubernetes, or remove discovery";

    private DiscoveryReader() {
    }

    /** {@link Discovery#NONE} when the file has no discovery section; a null or empty one is a problem. */
    static Discovery read(ValueReader values, MappingReader root) {
        Optional<Node> node = root.get(PATH);
        if (node.isEmpty()) {
            return Discovery.NONE;
        }
        if (Nodes.isNull(node.get())) {
            values.problems().add(PATH, node.get(), NOTHING_CONFIGURED);
            return Discovery.NONE;
        }
        Optional<MappingReader> section = values.mapping(PATH, node.get(), KEYS);
        if (section.isEmpty()) {
            return Discovery.NONE;
        }
        MappingReader discovery = section.get();
        Optional<Node> dnsNode = discovery.get("dns").filter(n -> !Nodes.isNull(n));
        Optional<Node> kubernetesNode = discovery.get("kubernetes").filter(n -> !Nodes.isNull(n));
        List<DnsDiscovery> dns = DnsDiscoveryReader.read(values, discovery.path("dns"), dnsNode);
        KubernetesDiscovery kubernetes = kubernetesNode
                .flatMap(n -> values.mapping(discovery.path("kubernetes"), n, KubernetesDiscoveryReader.KEYS))
                .map(k -> KubernetesDiscoveryReader.read(values, k))
                .orElse(null);
        boolean dnsWritten = dnsNode.filter(n -> !(n instanceof SequenceNode s && s.getValue().isEmpty())).isPresent();
        if (!dnsWritten && kubernetesNode.isEmpty()) {
            values.problems().add(PATH, node.get(), NOTHING_CONFIGURED);
        }
        return new Discovery(dns, kubernetes);
    }
}

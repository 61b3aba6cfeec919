// purpose: where endpoints come from besides the static backends list (YAML section "discovery")
package io.pgbalancer.config;

import java.util.List;

/** {@code kubernetes} is null when not configured; {@code dns} is empty when not configured. */
public record Discovery(List<DnsDiscovery> dns, KubernetesDiscovery kubernetes) {
    public static final Discovery NONE = new Discovery(List.of(), null);

    public Discovery {
        dns = List.copyOf(dns);
    }

    public boolean isEmpty() {
        return dns.isEmpty() && kubernetes == null;
    }
}

// purpose: picks the port of an EndpointSlice to use: the configured name or number, or the slice's only port
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * {@code discovery.kubernetes.port}: a number is used as it is (the endpoints are pod IPs, the number a container
 * port); a name must be one of the slice's ports; unset, the slice must list exactly one port. Otherwise the slice's
 * endpoints are not used and the problem is reported (once, by {@link ProblemLog}).
 */
final class PortSelector {
    private final String configured;
    private final Integer number;

    PortSelector(String configured) {
        this.configured = configured == null || configured.isBlank() ? null : configured.trim();
        this.number = this.configured != null && this.configured.chars().allMatch(Character::isDigit)
                ? parse(this.configured) : null;
    }

    private static Integer parse(String digits) {
        try {
            int n = Integer.parseInt(digits);
            return n >= 1 && n <= 65535 ? n : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    OptionalInt select(String service, EndpointSlice slice, ProblemLog problems) {
        if (number != null) {
            return OptionalInt.of(number);
        }
        List<EndpointPort> ports = slice.getPorts() == null ? List.of() : slice.getPorts();
        String sliceName = "EndpointSlice " + slice.getMetadata().getName() + " of Service " + service;
        if (configured != null) {
            for (EndpointPort p : ports) {
                if (configured.equals(p.getName()) && validPort(p)) {
                    return OptionalInt.of(p.getPort());
                }
            }
            problems.report(sliceName + " has no port named \"" + configured
                    + "\" (it lists " + describe(ports) + "): its endpoints are not used; fix"
                    + " discovery.kubernetes.port or the Service's port name");
            return OptionalInt.empty();
        }
        if (ports.size() == 1 && validPort(ports.get(0))) {
            return OptionalInt.of(ports.get(0).getPort());
        }
        problems.report(sliceName + " lists " + describe(ports)
                + ": set discovery.kubernetes.port to the PostgreSQL port's name or number; its endpoints are not"
                + " used until then");
        return OptionalInt.empty();
    }

    private static boolean validPort(EndpointPort p) {
        return p.getPort() != null && p.getPort() >= 1 && p.getPort() <= 65535;
    }

    private static String describe(List<EndpointPort> ports) {
        if (ports.isEmpty()) {
            return "no port";
        }
        return ports.size() + (ports.size() == 1 ? " port (" : " ports (") + ports.stream()
                .map(p -> (p.getName() == null || p.getName().isEmpty() ? "unnamed" : p.getName()) + " "
                        + (p.getPort() == null ? "all" : p.getPort().toString()))
                .collect(Collectors.joining(", ")) + ")";
    }
}

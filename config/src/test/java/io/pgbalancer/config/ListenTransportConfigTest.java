// purpose: tests listen.transport: the default, each accepted value, and the problem for an unknown one
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ListenTransportConfigTest {
    @Test
    void theTransportIsAutoUnlessSet() throws ConfigException {
        assertEquals(SocketTransport.AUTO, parse(MINIMAL).listen().transport());
        for (SocketTransport t : SocketTransport.values()) {
            assertEquals(t, parse(MINIMAL + "listen: {transport: " + t.yamlName() + "}\n").listen().transport());
        }
    }

    @Test
    void anUnknownTransportNamesTheChoices() {
        assertEquals(List.of("listen.transport: expected one of auto, io_uring, epoll, nio, got \"kqueue\""),
                problems(MINIMAL + "listen: {transport: kqueue}\n"));
    }
}

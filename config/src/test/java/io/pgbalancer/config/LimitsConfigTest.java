// purpose: tests limits.auth_timeout and auth.users[].max_connections: defaults, values, each problem's place
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.BACKENDS;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LimitsConfigTest {
    @Test
    void authTimeoutDefaultsToTenSecondsAndCanBeSet() throws ConfigException {
        assertEquals(Duration.ofSeconds(10), parse(MINIMAL).limits().authTimeout());
        assertEquals(Duration.ofMillis(1500), parse(MINIMAL + "limits: {auth_timeout: 1500ms}\n").limits()
                .authTimeout());
    }

    @Test
    void anAuthTimeoutMustBePositiveAndAtMostTenMinutes() {
        assertEquals(List.of("limits.auth_timeout: must be greater than 0, got \"0s\""),
                problems(MINIMAL + "limits: {auth_timeout: 0s}\n"));
        assertEquals(1, problems(MINIMAL + "limits: {auth_timeout: 11m}\n").size());
        assertEquals(true, problems(MINIMAL + "limits: {auth_timeout: 11m}\n").get(0)
                .startsWith("limits.auth_timeout: "));
        assertEquals(true, problems(MINIMAL + "limits: {auth_timeout: soon}\n").get(0)
                .startsWith("limits.auth_timeout: expected a duration"));
    }

    @Test
    void aUserMayHaveAConnectionLimitOfItsOwn() throws ConfigException {
        PgBalancerConfig config = parse("auth: {users: [{name: app, password: a}, {name: batch, password: b,"
                + " max_connections: 3}]}\n" + BACKENDS);
        assertNull(config.auth().users().get(0).maxConnections(), "no limit unless set");
        assertEquals(3, config.auth().users().get(1).maxConnections());
    }

    @Test
    void aUsersConnectionLimitMustBeAPositiveInteger() {
        assertEquals(List.of("auth.users[0].max_connections: expected a positive integer, got 0"),
                problems("auth: {users: [{name: app, password: a, max_connections: 0}]}\n" + BACKENDS));
    }
}

// purpose: tests backend roles: auto, at most one primary, a backend that can be the primary, backends with discovery
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.AUTH;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.located;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BackendRolesConfigTest {
    private static final String NO_PRIMARY = "backends: no backend can be the primary: give one role primary or auto,"
            + " or configure discovery";
    /** A discovery section on line 2, right after AUTH. */
    private static final String DNS = "discovery: {dns: [{name: pg.db.svc.cluster.local}]}\n";

    @Test
    void roleAutoIsRead() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + """
                backends:
                  - {host: a, role: auto}
                  - {host: b, port: 5433, role: auto, weight: 2, max_connections: 10}
                """);
        assertEquals(List.of(new Backend("a", 5432, Role.AUTO, 1, null), new Backend("b", 5433, Role.AUTO, 2, 10)),
                config.backends());
        assertEquals("auto", Role.AUTO.yamlName());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 0 primaries + 0 replicas"
                + " + 2 auto, 1 user (scram-sha-256), routing least-outstanding, consistency user", config.summary());
    }

    @Test
    void primaryReplicasAndAutoTogether() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + """
                backends:
                  - {host: r1, role: replica}
                  - {host: x, role: auto}
                  - {host: p, role: primary}
                  - {host: r2, role: replica}
                """);
        assertEquals(new Backend("p", 5432, Role.PRIMARY, 1, null), config.primary());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 1 primary + 2 replicas"
                + " + 1 auto, 1 user (scram-sha-256), routing least-outstanding, consistency user", config.summary());
    }

    @Test
    void anAutoBackendCanBeThePrimary() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + """
                backends:
                  - {host: a, role: replica}
                  - {host: b, role: auto}
                """);
        assertEquals(Role.AUTO, config.backends().get(1).role());
        // No backend is configured as the primary: the monitor finds it, so primary() has none to give.
        IllegalStateException e = assertThrows(IllegalStateException.class, config::primary);
        assertEquals("configuration has no backend with role primary", e.getMessage());
    }

    @Test
    void withoutDiscoveryOnlyReplicasIsAProblem() {
        assertEquals(List.of("2:11: " + NO_PRIMARY), located(AUTH + "backends: [{host: a, role: replica}]\n"));
        // Reported at the list, which in block style starts at its first item.
        assertEquals(List.of("3:3: " + NO_PRIMARY), located(AUTH + """
                backends:
                  - {host: a, role: replica}
                  - {host: b, role: replica}
                """));
    }

    @Test
    void noBackendCanBeThePrimaryIsNotReportedOverAnUnknownRole() {
        // The second backend might have been meant as the primary (or auto): only its role is reported.
        assertEquals(List.of("backends[1].role: expected one of primary, replica, auto, got \"atuo\""),
                problems(AUTH + "backends: [{host: a, role: replica}, {host: b, role: atuo}]\n"));
    }

    @Test
    void atMostOnePrimaryAmongAutoBackends() {
        assertEquals(List.of("5:21: backends[2].role: at most one backend may have role primary, but backends[0] is"
                + " primary too"), located(AUTH + """
                backends:
                  - {host: a, role: primary}
                  - {host: b, role: auto}
                  - {host: c, role: primary}
                """));
    }

    @Test
    void atMostOnePrimaryWithDiscoveryToo() {
        assertEquals(List.of("5:21: backends[1].role: at most one backend may have role primary, but backends[0] is"
                + " primary too"), located(AUTH + DNS + """
                backends:
                  - {host: a, role: primary}
                  - {host: b, role: primary}
                """));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "backends: []\n", "backends:\n", "backends: ~\n"})
    void backendsAreOptionalWithDiscovery(String backends) throws ConfigException {
        PgBalancerConfig config = parse(AUTH + DNS + backends);
        assertEquals(List.of(), config.backends());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, dns discovery of"
                + " pg.db.svc.cluster.local, 1 user (scram-sha-256), routing least-outstanding, consistency user",
                config.summary());
    }

    @Test
    void withDiscoveryNoBackendNeedBeThePrimary() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + DNS + "backends: [{host: a, role: replica}]\n");
        assertEquals(List.of(new Backend("a", 5432, Role.REPLICA, 1, null)), config.backends());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 0 primaries + 1 replica,"
                + " dns discovery of pg.db.svc.cluster.local, 1 user (scram-sha-256), routing least-outstanding,"
                + " consistency user", config.summary());
    }

    @Test
    void withoutDiscoveryBackendsAreStillRequired() {
        assertEquals(List.of("1:1: backends: required key is missing"), located(AUTH));
        assertEquals(List.of("2:11: backends: expected at least one backend"), located(AUTH + "backends: []\n"));
        assertEquals(List.of("2:11: backends: expected a list of backends, got null"), located(AUTH + "backends: ~\n"));
    }

    @Test
    void aBrokenDiscoveryStillMakesBackendsOptional() {
        // Only the discovery section is wrong; "backends: required key is missing" would send the reader astray.
        assertEquals(List.of("2:12: discovery: configure dns or kubernetes, or remove discovery"),
                located(AUTH + "discovery: {}\n"));
        assertEquals(List.of("2:18: discovery.dns: expected a list of DNS names, got \"pg\""),
                located(AUTH + "discovery: {dns: pg}\n"));
    }

    @Test
    void backendsAreStillCheckedWithDiscovery() {
        assertEquals(List.of("3:11: backends: expected a list of backends, got a mapping"),
                located(AUTH + DNS + "backends: {host: a}\n"));
        assertEquals(List.of("3:35: backends[1]: duplicate backend a:5432 (same as backends[0])"),
                located(AUTH + DNS + "backends: [{host: a, role: auto}, {host: a, role: replica}]\n"));
        assertEquals(List.of("3:12: backends[0].host: required key is missing"),
                located(AUTH + DNS + "backends: [{role: auto}]\n"));
    }

    @Test
    void theConstructorWithoutDiscoveryHasNone() throws ConfigException {
        PgBalancerConfig parsed = parse(MINIMAL);
        assertEquals(Discovery.NONE, parsed.discovery());
        PgBalancerConfig built = new PgBalancerConfig(parsed.listen(), parsed.pool(), parsed.auth(), parsed.backends(),
                parsed.limits(), parsed.shutdown(), parsed.routing(), parsed.http(), parsed.monitor(), parsed.admin(),
                parsed.warnings());
        assertEquals(parsed, built);
        assertEquals(parsed.summary(), built.summary());
    }
}

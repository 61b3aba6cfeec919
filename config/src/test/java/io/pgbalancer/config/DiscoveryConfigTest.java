// purpose: tests the "discovery" section: dns and kubernetes with defaults and every key, each problem's place
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.AUTH;
import static io.pgbalancer.config.ConfigAssertions.BACKENDS;
import static io.pgbalancer.config.ConfigAssertions.located;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DiscoveryConfigTest {
    private static final String DNS_KEYS = "name, port, role, interval, weight, max_connections";
    private static final String KUBERNETES_KEYS = "namespace, port, roles, service, primary_service, replica_service,"
            + " label, weight, max_connections, peers, stale_after";
    /** Spelled out here (not taken from the reader) so the message itself is pinned. */
    private static final String DNS_LABEL = "a DNS-1123 label (lowercase letters, digits and '-', starting and ending"
            + " with a letter or digit, at most 63 characters)";
    private static final String PORT = "an integer between 1 and 65535 or a port name, " + DNS_LABEL;
    private static final String NOTHING = "discovery: configure dns or kubernetes, or remove discovery";

    /** AUTH on line 1, then one DNS entry named pg on line 4; {@code keys} start on line 5, column 7. */
    private static String dns(String keys) {
        return AUTH + "discovery:\n  dns:\n    - name: pg\n" + keys.indent(6);
    }

    /** AUTH on line 1, then {@code keys} of discovery.kubernetes from line 4, column 5. */
    private static String kubernetes(String keys) {
        return AUTH + "discovery:\n  kubernetes:\n" + keys.indent(4);
    }

    /** Test tables cannot hold the labels' quotes: {@code <label>} and {@code <port>} stand for the expectations. */
    private static String expand(String expected) {
        return expected.replace("<label>", DNS_LABEL).replace("<port>", PORT);
    }

    // --- valid: dns ---

    @Test
    void absentSectionIsNone() throws ConfigException {
        Discovery discovery = parse(AUTH + BACKENDS).discovery();
        assertEquals(Discovery.NONE, discovery);
        assertTrue(discovery.isEmpty());
        assertEquals(List.of(), discovery.dns());
        assertNull(discovery.kubernetes());
    }

    @Test
    void dnsEntryWithDefaults() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + """
                discovery:
                  dns:
                    - name: pg-replicas.db.svc.cluster.local
                """);
        DnsDiscovery entry = new DnsDiscovery("pg-replicas.db.svc.cluster.local", 5432, Role.AUTO,
                Duration.ofSeconds(5), 1, null);
        assertEquals(new Discovery(List.of(entry), null), config.discovery());
        assertFalse(config.discovery().isEmpty());
        assertEquals(Role.AUTO, DnsDiscovery.DEFAULT_ROLE);
        assertEquals(Duration.ofSeconds(5), DnsDiscovery.DEFAULT_INTERVAL);
        assertEquals(List.of(), config.backends());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, dns discovery of"
                + " pg-replicas.db.svc.cluster.local, 1 user (scram-sha-256), routing least-outstanding,"
                + " consistency user", config.summary());
    }

    @Test
    void dnsEveryKeySetExplicitly() throws ConfigException {
        Discovery discovery = parse(AUTH + """
                discovery:
                  dns:
                    - name: "${PG_PRIMARY}"
                      port: 6543
                      role: primary
                      interval: 500ms
                      weight: 3
                      max_connections: 50
                    - {name: pg-ro.db, port: 5433, role: replica, interval: 1m, weight: 2, max_connections: null}
                    - {name: 10.0.0.7, role: auto}
                """, Map.of("PG_PRIMARY", "pg-rw.db")).discovery();
        assertEquals(List.of(
                new DnsDiscovery("pg-rw.db", 6543, Role.PRIMARY, Duration.ofMillis(500), 3, 50),
                new DnsDiscovery("pg-ro.db", 5433, Role.REPLICA, Duration.ofMinutes(1), 2, null),
                new DnsDiscovery("10.0.0.7", 5432, Role.AUTO, Duration.ofSeconds(5), 1, null)), discovery.dns());
        assertNull(discovery.kubernetes());
    }

    @Test
    void sameNameOnAnotherPortIsAnotherEntry() throws ConfigException {
        Discovery discovery = parse(AUTH + "discovery: {dns: [{name: pg}, {name: pg, port: 5433}]}\n").discovery();
        assertEquals(List.of(5432, 5433), discovery.dns().stream().map(DnsDiscovery::port).toList());
    }

    // --- valid: kubernetes ---

    @Test
    void kubernetesRolesAutoWithDefaults() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + """
                discovery:
                  kubernetes:
                    service: pg
                """);
        assertEquals(new KubernetesDiscovery(null, null, KubernetesRoles.AUTO, "pg", null, null, null, 1, null, null,
                Duration.ofSeconds(30)), config.discovery().kubernetes());
        assertEquals(List.of(), config.discovery().dns());
        assertEquals(Duration.ofSeconds(30), KubernetesDiscovery.DEFAULT_STALE_AFTER);
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, kubernetes discovery in"
                + " the pod's namespace, 1 user (scram-sha-256), routing least-outstanding, consistency user",
                config.summary());
    }

    @Test
    void kubernetesRolesServicesWithEveryKey() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + """
                discovery:
                  kubernetes:
                    namespace: db
                    port: 5432
                    roles: services
                    primary_service: pg-rw
                    replica_service: "${RO_SERVICE}"
                    weight: 2
                    max_connections: 100
                    peers: pgbalancer
                    stale_after: 1m
                """, Map.of("RO_SERVICE", "pg-ro"));
        KubernetesDiscovery kubernetes = config.discovery().kubernetes();
        assertEquals(new KubernetesDiscovery("db", "5432", KubernetesRoles.SERVICES, null, "pg-rw", "pg-ro", null, 2,
                100, "pgbalancer", Duration.ofMinutes(1)), kubernetes);
        assertEquals("db", kubernetes.namespace());
        assertEquals("5432", kubernetes.port());
        assertEquals(100, kubernetes.maxConnections());
        assertEquals("pgbalancer", kubernetes.peersService());
        assertTrue(config.summary().contains(", kubernetes discovery in namespace db, "), config.summary());
    }

    @Test
    void kubernetesRolesLabel() throws ConfigException {
        KubernetesDiscovery kubernetes = parse(AUTH + """
                discovery:
                  kubernetes:
                    roles: label
                    service: pg
                    port: postgres
                    label: {key: cnpg.io/instanceRole, primary: primary, replica: replica}
                """).discovery().kubernetes();
        assertEquals(new KubernetesDiscovery(null, "postgres", KubernetesRoles.LABEL, "pg", null, null,
                new KubernetesDiscovery.RoleLabel("cnpg.io/instanceRole", "primary", "replica"), 1, null, null,
                Duration.ofSeconds(30)), kubernetes);
        assertEquals(new KubernetesDiscovery.RoleLabel("role", "master", "replica"), parse(AUTH + """
                discovery:
                  kubernetes: {roles: label, service: patroni, label: {key: role, primary: master, replica: replica}}
                """).discovery().kubernetes().label());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "5432      | 5432",
        "'5432'    | 5432",
        "'05432'   | 5432",
        "1         | 1",
        "65535     | 65535",
        "postgres  | postgres",
        "pg-5432   | pg-5432",
        "~         | ",
    })
    void kubernetesPortIsANumberOrAName(String yaml, String expected) throws ConfigException {
        assertEquals(expected, parse(kubernetes("service: pg\nport: " + yaml)).discovery().kubernetes().port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "db", "0db", "team-a-db",
        "x2345678901234567890123456789012" + "3456789012345678901234567890123"}) // 63 characters
    void kubernetesNamesAreDnsLabels(String name) throws ConfigException {
        KubernetesDiscovery kubernetes = parse(kubernetes("namespace: " + name + "\nservice: " + name))
                .discovery().kubernetes();
        assertEquals(name, kubernetes.namespace());
        assertEquals(name, kubernetes.service());
    }

    @Test
    void maxConnectionsMayBeNullWithoutPeers() throws ConfigException {
        KubernetesDiscovery kubernetes = parse(kubernetes("service: pg\nmax_connections: ~")).discovery().kubernetes();
        assertNull(kubernetes.maxConnections());
        assertNull(kubernetes.peersService());
    }

    // --- valid: both, and with backends ---

    @Test
    void dnsKubernetesAndBackendsTogether() throws ConfigException {
        PgBalancerConfig config = parse(AUTH + BACKENDS + """
                discovery:
                  dns:
                    - {name: pg-a.db, role: replica}
                    - {name: pg-b.db, role: replica}
                  kubernetes: {namespace: db, service: pg}
                """);
        assertEquals(2, config.discovery().dns().size());
        assertEquals("pg", config.discovery().kubernetes().service());
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 1 primary + 0 replicas,"
                + " dns discovery of pg-a.db and pg-b.db, kubernetes discovery in namespace db, 1 user"
                + " (scram-sha-256), routing least-outstanding, consistency user", config.summary());
    }

    @Test
    void anEmptyOrNullHalfIsNotConfiguredWhenTheOtherIs() throws ConfigException {
        Discovery kubernetesOnly = parse(AUTH + "discovery: {dns: [], kubernetes: {service: pg}}\n").discovery();
        assertEquals(List.of(), kubernetesOnly.dns());
        assertEquals("pg", kubernetesOnly.kubernetes().service());
        Discovery dnsOnly = parse(AUTH + "discovery: {dns: [{name: pg}], kubernetes: ~}\n").discovery();
        assertEquals(1, dnsOnly.dns().size());
        assertNull(dnsOnly.kubernetes());
        assertEquals(1, parse(AUTH + "discovery: {dns: [{name: pg}], kubernetes: }\n").discovery().dns().size());
    }

    @Test
    void modelRecordsRequireTheirSettings() {
        Duration d = Duration.ofSeconds(1);
        assertThrows(NullPointerException.class, () -> new DnsDiscovery(null, 5432, Role.AUTO, d, 1, null));
        assertThrows(NullPointerException.class, () -> new DnsDiscovery("pg", 5432, null, d, 1, null));
        assertThrows(NullPointerException.class, () -> new DnsDiscovery("pg", 5432, Role.AUTO, null, 1, null));
        assertThrows(NullPointerException.class, () -> new KubernetesDiscovery(null, null, null, "pg", null, null,
                null, 1, null, null, d));
        assertThrows(NullPointerException.class, () -> new KubernetesDiscovery(null, null, KubernetesRoles.AUTO, "pg",
                null, null, null, 1, null, null, null));
        assertThrows(NullPointerException.class, () -> new KubernetesDiscovery.RoleLabel("role", null, "replica"));
        assertEquals("label", KubernetesRoles.LABEL.yamlName());
    }

    // --- problems: the section ---

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "discovery: {}                         | 2:12",
        "discovery: ~                          | 2:12",
        "discovery:                            | 2:11",
        "discovery: {dns: []}                  | 2:12",
        "discovery: {dns: ~}                   | 2:12",
        "discovery: {dns: [], kubernetes: ~}   | 2:12",
    })
    void emptyDiscoveryIsAProblem(String section, String position) {
        assertEquals(List.of(position + ": " + NOTHING), located(AUTH + section + "\n"));
    }

    @Test
    void emptyDiscoveryInBlockStyleIsReportedAtItsFirstKey() {
        assertEquals(List.of("3:3: " + NOTHING), located(AUTH + "discovery:\n  dns: []\n"));
        assertEquals(List.of("3:3: " + NOTHING), located(AUTH + "discovery:\n  kubernetes:\n"));
    }

    @Test
    void sectionMustBeAMappingOfKnownKeys() {
        assertEquals(List.of("2:12: discovery: expected a mapping, got a list"), located(AUTH + "discovery: [dns]\n"));
        assertEquals(List.of("2:12: discovery: expected a mapping, got \"dns\""), located(AUTH + "discovery: dns\n"));
        // A misspelt key leaves nothing configured: both are reported.
        assertEquals(List.of("3:3: discovery.dsn: unknown key (expected one of: dns, kubernetes)",
                "3:3: " + NOTHING),
                located(AUTH + "discovery:\n  dsn: [{name: pg}]\n"));
    }

    // --- problems: dns ---

    @Test
    void dnsMustBeAListOfMappings() {
        assertEquals(List.of("2:18: discovery.dns: expected a list of DNS names, got a mapping"),
                located(AUTH + "discovery: {dns: {name: pg}}\n"));
        assertEquals(List.of("2:19: discovery.dns[0]: expected a mapping, got \"pg\""),
                located(AUTH + "discovery: {dns: [pg]}\n"));
    }

    @Test
    void dnsNameIsRequired() {
        assertEquals(List.of("4:7: discovery.dns[0].name: required key is missing"),
                located(AUTH + "discovery:\n  dns:\n    - {port: 5432}\n"));
        assertEquals(List.of("4:7: discovery.dns[0].name: required key is missing"),
                located(AUTH + "discovery:\n  dns:\n    - port: 5432\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"\"          | 4:13: discovery.dns[0].name: expected a host name or IP address, got \"\"",
        "pg replicas   | 4:13: discovery.dns[0].name: expected a host name or IP address, got \"pg replicas\"",
        "~             | 4:13: discovery.dns[0].name: expected a host name or IP address, got null",
        "[pg]          | 4:13: discovery.dns[0].name: expected a host name or IP address, got a list",
        "\"${PG_DNS}\" | 4:13: discovery.dns[0].name: environment variable PG_DNS is not set",
    })
    void badDnsName(String name, String expected) {
        assertEquals(List.of(expected), located(AUTH + "discovery:\n  dns:\n    - name: " + name + "\n"));
    }

    /** Each entry goes on line 5, after the entry's name; the expectation is "line:column: path: message". */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "port: 0                | 5:13: discovery.dns[0].port: expected an integer between 1 and 65535, got 0",
        "port: 70000            | 5:13: discovery.dns[0].port: expected an integer between 1 and 65535, got 70000",
        "port: postgres         | 5:13: discovery.dns[0].port: expected an integer between 1 and 65535,"
                + " got \"postgres\"",
        "role: master           | 5:13: discovery.dns[0].role: expected one of primary, replica, auto, got \"master\"",
        "role: ~                | 5:13: discovery.dns[0].role: expected one of primary, replica, auto, got null",
        "interval: 0s           | 5:17: discovery.dns[0].interval: must be greater than 0, got \"0s\"",
        "interval: -5s          | 5:17: discovery.dns[0].interval: must not be negative, got \"-5s\"",
        "interval: 5            | 5:17: discovery.dns[0].interval: expected a duration such as 500ms, 5s, 10m"
                + " or 1h, got \"5\"",
        "weight: 0              | 5:15: discovery.dns[0].weight: expected a positive integer, got 0",
        "weight: ~              | 5:15: discovery.dns[0].weight: expected a positive integer, got null",
        "max_connections: 0     | 5:24: discovery.dns[0].max_connections: expected a positive integer, got 0",
        "max_connections: many  | 5:24: discovery.dns[0].max_connections: expected a positive integer, got \"many\"",
        "ttl: 5s                | 5:7: discovery.dns[0].ttl: unknown key (expected one of: " + DNS_KEYS + ")",
    })
    void badDnsValues(String entry, String expected) {
        assertEquals(List.of(expected), located(dns(entry)));
    }

    @Test
    void duplicateDnsEntriesNameTheFirst() {
        assertEquals(List.of(
                "6:7: discovery.dns[2]: duplicate DNS name PG.db:5432 (same as discovery.dns[0])",
                "7:7: discovery.dns[3]: duplicate DNS name pg.db:5433 (same as discovery.dns[1])"),
                located(AUTH + """
                        discovery:
                          dns:
                            - {name: pg.db}
                            - {name: pg.db, port: 5433}
                            - {name: PG.db, port: 5432}
                            - {name: pg.db, port: 5433, role: replica}
                        """));
    }

    @Test
    void aDuplicateEntryIsStillCheckedKeyByKey() {
        assertEquals(List.of(
                "5:7: discovery.dns[1]: duplicate DNS name pg:5432 (same as discovery.dns[0])",
                "5:26: discovery.dns[1].weight: expected a positive integer, got 0"),
                located(AUTH + "discovery:\n  dns:\n    - {name: pg}\n    - {name: pg, weight: 0}\n"));
    }

    // --- problems: kubernetes ---

    @Test
    void kubernetesMustBeAMapping() {
        assertEquals(List.of("2:25: discovery.kubernetes: expected a mapping, got \"pg\""),
                located(AUTH + "discovery: {kubernetes: pg}\n"));
        assertEquals(List.of("5:5: discovery.kubernetes.watch: unknown key (expected one of: " + KUBERNETES_KEYS
                + ")"), located(kubernetes("service: pg\nwatch: true")));
    }

    /** Each entry goes on line 5, after "service: pg"; "<label>" and "<port>" stand for the long expectations. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "namespace: Db         | 5:16: discovery.kubernetes.namespace: expected <label>, got \"Db\"",
        "namespace: -db        | 5:16: discovery.kubernetes.namespace: expected <label>, got \"-db\"",
        "namespace: db-        | 5:16: discovery.kubernetes.namespace: expected <label>, got \"db-\"",
        "namespace: d.b        | 5:16: discovery.kubernetes.namespace: expected <label>, got \"d.b\"",
        "namespace: d_b        | 5:16: discovery.kubernetes.namespace: expected <label>, got \"d_b\"",
        "namespace: ''         | 5:16: discovery.kubernetes.namespace: expected <label>, got \"\"",
        "namespace: ~          | 5:16: discovery.kubernetes.namespace: expected <label>, got null",
        "namespace: x234567890123456789012345678901234567890123456789012345678901234 | 5:16:"
                + " discovery.kubernetes.namespace: expected <label>,"
                + " got \"x234567890123456789012345678901234567890123456789012345678901234\"",
        "port: 0               | 5:11: discovery.kubernetes.port: expected <port>, got 0",
        "port: 65536           | 5:11: discovery.kubernetes.port: expected <port>, got 65536",
        "port: 123456          | 5:11: discovery.kubernetes.port: expected <port>, got 123456",
        "port: -1              | 5:11: discovery.kubernetes.port: expected <port>, got -1",
        "port: Postgres        | 5:11: discovery.kubernetes.port: expected <port>, got \"Postgres\"",
        "port: 'pg port'       | 5:11: discovery.kubernetes.port: expected <port>, got \"pg port\"",
        "port: [5432]          | 5:11: discovery.kubernetes.port: expected <port>, got a list",
        "roles: patroni        | 5:12: discovery.kubernetes.roles: expected one of services, label, auto,"
                + " got \"patroni\"",
        "weight: 0             | 5:13: discovery.kubernetes.weight: expected a positive integer, got 0",
        "max_connections: 0    | 5:22: discovery.kubernetes.max_connections: expected a positive integer, got 0",
        "max_connections: 1.5  | 5:22: discovery.kubernetes.max_connections: expected a positive integer, got 1.5",
        "stale_after: 0s       | 5:18: discovery.kubernetes.stale_after: must be greater than 0, got \"0s\"",
        "stale_after: 30       | 5:18: discovery.kubernetes.stale_after: expected a duration such as 500ms, 5s,"
                + " 10m or 1h, got \"30\"",
    })
    void badKubernetesValues(String entry, String expected) {
        assertEquals(List.of(expand(expected)), located(kubernetes("service: pg\n" + entry)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "roles: auto\\nservice: PG                | 5:14: discovery.kubernetes.service: expected <label>, got \"PG\"",
        "roles: label\\nservice: pg.db\\nlabel: {key: role, primary: m, replica: r} | 5:14:"
                + " discovery.kubernetes.service: expected <label>, got \"pg.db\"",
        "roles: services\\nprimary_service: pg_rw\\nreplica_service: pg-ro | 5:22:"
                + " discovery.kubernetes.primary_service: expected <label>, got \"pg_rw\"",
        "roles: services\\nprimary_service: pg-rw\\nreplica_service: '' | 6:22:"
                + " discovery.kubernetes.replica_service: expected <label>, got \"\"",
        "service: pg\\nmax_connections: 10\\npeers: PgBalancer | 6:12: discovery.kubernetes.peers:"
                + " expected <label>, got \"PgBalancer\"",
    })
    void kubernetesServiceNamesAreDnsLabels(String keys, String expected) {
        assertEquals(List.of(expand(expected)), located(kubernetes(keys.replace("\\n", "\n"))));
    }

    @Test
    void serviceIsRequiredWithRolesAutoAndLabel() {
        assertEquals(List.of("4:5: discovery.kubernetes.service: required when roles is auto (the default)"),
                located(kubernetes("namespace: db")));
        assertEquals(List.of("2:25: discovery.kubernetes.service: required when roles is auto (the default)"),
                located(AUTH + "discovery: {kubernetes: {}}\n"));
        assertEquals(List.of("4:5: discovery.kubernetes.service: required when roles is auto"),
                located(kubernetes("roles: auto")));
        assertEquals(List.of("4:5: discovery.kubernetes.service: required when roles is label"),
                located(kubernetes("roles: label\nlabel: {key: role, primary: master, replica: replica}")));
    }

    @Test
    void serviceIsAProblemWithRolesServices() {
        assertEquals(List.of("7:14: discovery.kubernetes.service: only used when roles is label or auto, but roles"
                + " is services"), located(kubernetes("""
                roles: services
                primary_service: pg-rw
                replica_service: pg-ro
                service: pg""")));
    }

    @Test
    void primaryAndReplicaServicesAreRequiredWithRolesServices() {
        assertEquals(List.of(
                "4:5: discovery.kubernetes.primary_service: required when roles is services",
                "4:5: discovery.kubernetes.replica_service: required when roles is services"),
                located(kubernetes("roles: services")));
        assertEquals(List.of("4:5: discovery.kubernetes.replica_service: required when roles is services"),
                located(kubernetes("roles: services\nprimary_service: pg-rw")));
    }

    @Test
    void primaryAndReplicaServicesAreAProblemWithOtherRoles() {
        assertEquals(List.of(
                "5:22: discovery.kubernetes.primary_service: only used when roles is services, but roles is auto",
                "6:22: discovery.kubernetes.replica_service: only used when roles is services, but roles is auto"),
                located(kubernetes("service: pg\nprimary_service: pg-rw\nreplica_service: pg-ro")));
        assertEquals(List.of(
                "7:22: discovery.kubernetes.replica_service: only used when roles is services, but roles is label"),
                located(kubernetes("""
                        roles: label
                        service: pg
                        label: {key: role, primary: master, replica: replica}
                        replica_service: pg-ro""")));
    }

    @Test
    void labelIsRequiredWithRolesLabelOnly() {
        assertEquals(List.of("4:5: discovery.kubernetes.label: required when roles is label"),
                located(kubernetes("roles: label\nservice: pg")));
        assertEquals(List.of("5:12: discovery.kubernetes.label: only used when roles is label, but roles is auto"),
                located(kubernetes("service: pg\nlabel: {key: role, primary: master, replica: replica}")));
        assertEquals(List.of("7:12: discovery.kubernetes.label: only used when roles is label, but roles is services"),
                located(kubernetes("""
                        roles: services
                        primary_service: pg-rw
                        replica_service: pg-ro
                        label: {key: role, primary: master, replica: replica}""")));
    }

    @Test
    void anInvalidRolesChecksNoRequirements() {
        // Which keys roles needs is unknown, so only the values themselves are checked.
        assertEquals(List.of(
                "4:12: discovery.kubernetes.roles: expected one of services, label, auto, got \"patroni\"",
                "5:14: discovery.kubernetes.service: expected " + DNS_LABEL + ", got \"PG\""),
                located(kubernetes("roles: patroni\nservice: PG\nprimary_service: pg-rw")));
    }

    /** {@code label} goes on line 6 (column 12), after "roles: label" and "service: pg". */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "role                                   | 6:12: discovery.kubernetes.label: expected a mapping, got \"role\"",
        "~                                      | 6:12: discovery.kubernetes.label: expected a mapping, got null",
        "{primary: master, replica: replica}    | 6:12: discovery.kubernetes.label.key: required key is missing",
        "{key: role, replica: replica}          | 6:12: discovery.kubernetes.label.primary: required key is missing",
        "{key: role, primary: master}           | 6:12: discovery.kubernetes.label.replica: required key is missing",
        "{key: '', primary: m, replica: r}      | 6:18: discovery.kubernetes.label.key: expected a label key such as"
                + " role or cnpg.io/instanceRole (non-empty, no spaces), got \"\"",
        "{key: 'my role', primary: m, replica: r} | 6:18: discovery.kubernetes.label.key: expected a label key"
                + " such as role or cnpg.io/instanceRole (non-empty, no spaces), got \"my role\"",
        "{key: role, primary: '', replica: r}   | 6:33: discovery.kubernetes.label.primary: expected a non-empty"
                + " string, got \"\"",
        "{key: role, primary: m, replica: ~}    | 6:45: discovery.kubernetes.label.replica: expected a non-empty"
                + " string, got null",
        "{key: role, primary: m, replica: r, value: x} | 6:48: discovery.kubernetes.label.value: unknown key"
                + " (expected one of: key, primary, replica)",
    })
    void badLabel(String label, String expected) {
        assertEquals(List.of(expected), located(kubernetes("roles: label\nservice: pg\nlabel: " + label)));
    }

    @Test
    void allThreeLabelKeysMissingAreAllReported() {
        assertEquals(List.of(
                "6:12: discovery.kubernetes.label.key: required key is missing",
                "6:12: discovery.kubernetes.label.primary: required key is missing",
                "6:12: discovery.kubernetes.label.replica: required key is missing"),
                located(kubernetes("roles: label\nservice: pg\nlabel: {}")));
    }

    @Test
    void peersOnlyWithMaxConnections() throws ConfigException {
        String message = "discovery.kubernetes.peers: only used with max_connections (the budget the peers share),"
                + " but max_connections is not set";
        assertEquals(List.of("5:12: " + message), located(kubernetes("service: pg\npeers: pgbalancer")));
        assertEquals(List.of("6:12: " + message),
                located(kubernetes("service: pg\nmax_connections: ~\npeers: pgbalancer")));
        // An invalid max_connections is reported alone: it was meant to be set.
        assertEquals(List.of("5:22: discovery.kubernetes.max_connections: expected a positive integer, got 0"),
                located(kubernetes("service: pg\nmax_connections: 0\npeers: pgbalancer")));
        assertEquals("pgbalancer", parse(kubernetes("service: pg\nmax_connections: 40\npeers: pgbalancer"))
                .discovery().kubernetes().peersService());
    }

    @Test
    void everyDiscoveryProblemIsReportedInDocumentOrder() {
        assertEquals(List.of(
                "4:25: discovery.dns[0].weight: expected a positive integer, got 0",
                "5:7: discovery.dns[1]: duplicate DNS name a:5432 (same as discovery.dns[0])",
                "5:27: discovery.dns[1].interval: must be greater than 0, got \"0ms\"",
                "7:16: discovery.kubernetes.namespace: expected " + DNS_LABEL + ", got \"DB\"",
                "8:12: discovery.kubernetes.roles: expected one of services, label, auto, got \"service\"",
                "9:12: discovery.kubernetes.peers: only used with max_connections (the budget the peers share),"
                        + " but max_connections is not set",
                "10:18: discovery.kubernetes.stale_after: must not be negative, got \"-1s\"",
                "11:25: routing.primary_wait: must be at most 5m, got \"10m\""),
                located(AUTH + """
                        discovery:
                          dns:
                            - {name: a, weight: 0}
                            - {name: a, interval: 0ms}
                          kubernetes:
                            namespace: DB
                            roles: service
                            peers: pgbalancer
                            stale_after: -1s
                        routing: {primary_wait: 10m}
                        """));
    }
}

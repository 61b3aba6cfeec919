// purpose: tests that valid configurations load with the documented values and defaults
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderValidTest {
    static final String README_EXAMPLE = """
            listen: {host: 127.0.0.1, port: 6432}
            pool:
              mode: transaction          # transaction | session
              size: 20                   # backend connections per (backend, user, database)
              checkout_timeout: 5s       # how long a client waits for a free backend connection
            auth:
              method: scram-sha-256      # what clients must use: scram-sha-256 | md5 | trust
              users:
                - {name: app, password: "${APP_PASSWORD}"}   # ${VAR} is read from the environment
            backends:
              - {host: 127.0.0.1, port: 5432, role: primary}
            """;

    @Test
    void minimalFileGetsEveryDefault() throws ConfigException {
        PgBalancerConfig config = parse(MINIMAL);

        assertEquals(new Listen("127.0.0.1", 6432), config.listen());
        assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), config.listen().effectiveIoThreads(),
                "auto is half the CPUs, at least one");
        assertEquals(new Pool(PoolMode.TRANSACTION, 20, Duration.ofSeconds(5), Duration.ofMinutes(10),
                Duration.ofHours(1), Duration.ofSeconds(5), 1000), config.pool());
        assertEquals(new Auth(AuthMethod.SCRAM_SHA_256, List.of(new User("app", "secret"))), config.auth());
        assertEquals(List.of(new Backend("127.0.0.1", 5432, Role.PRIMARY, 1, null)), config.backends());
        assertEquals(new Limits(256 * 1024 * 1024, 10_000), config.limits());
        assertEquals(new Shutdown(Duration.ofSeconds(30)), config.shutdown());
        assertEquals(new Routing(Balance.LEAST_OUTSTANDING, PrimaryReads.FALLBACK, List.of(),
                VolatileFunctions.REPLICA, Consistency.USER, Duration.ofMillis(50), MaxLag.NONE), config.routing());
        assertEquals(new Http("127.0.0.1", Http.DISABLED), config.http());
        assertEquals(new Monitor(Duration.ofSeconds(1), Duration.ofMillis(1), Duration.ofSeconds(2),
                Duration.ofSeconds(2), "app", "secret", "postgres"), config.monitor());
        assertEquals(Admin.defaults(), config.admin());
    }

    @Test
    void readmeExampleLoads() throws ConfigException {
        PgBalancerConfig config = parse(README_EXAMPLE, Map.of("APP_PASSWORD", "s3cret"));

        assertEquals(new User("app", "s3cret"), config.auth().users().get(0));
        assertEquals("config OK: listen 127.0.0.1:6432, transaction pooling, pool size 20, 1 primary + 0 replicas,"
                + " 1 user (scram-sha-256), routing least-outstanding, consistency user", config.summary());
    }

    @Test
    void everyKeySetExplicitly() throws ConfigException {
        PgBalancerConfig config = parse("""
                listen: {host: 0.0.0.0, port: 7432}
                pool:
                  mode: session
                  size: 50
                  checkout_timeout: 500ms
                  idle_timeout: 0s
                  max_lifetime: 2d
                  connect_timeout: 3s
                  max_prepared_statements: 250
                auth:
                  method: md5
                  users:
                    - {name: app, password: a}
                    - {name: report, password: b}
                backends:
                  - {host: db-0.internal, port: 5432, role: primary, weight: 1, max_connections: 100}
                  - {host: db-1.internal, role: replica, weight: 3}
                  - {host: "::1", port: 5433, role: replica}
                limits: {max_message_size: 64kB, max_client_connections: 500}
                shutdown: {grace_period: 0s}
                routing:
                  balance: round-robin
                  primary_reads: always
                  write_functions: [nextval, setval, public.bump_counter]
                  volatile_functions: primary
                  consistency: global
                  causal_wait: 250ms
                  max_lag: {bytes: 16MB, time: 5s}
                metrics: {host: 0.0.0.0, port: 9930}
                monitor:
                  interval: 2s
                  fast_interval: 5ms
                  connect_timeout: 3s
                  query_timeout: 4s
                  user: monitor
                  password: m0n
                  database: ops
                admin: {users: [report]}
                """);

        assertEquals(new Listen("0.0.0.0", 7432), config.listen());
        assertEquals(new Pool(PoolMode.SESSION, 50, Duration.ofMillis(500), Duration.ZERO, Duration.ofDays(2),
                Duration.ofSeconds(3), 250), config.pool());
        assertEquals(AuthMethod.MD5, config.auth().method());
        assertEquals(List.of(
                new Backend("db-0.internal", 5432, Role.PRIMARY, 1, 100),
                new Backend("db-1.internal", 5432, Role.REPLICA, 3, null),
                new Backend("::1", 5433, Role.REPLICA, 1, null)), config.backends());
        assertEquals(new Limits(65536, 500), config.limits());
        assertEquals(Duration.ZERO, config.shutdown().gracePeriod());
        assertEquals(new Routing(Balance.ROUND_ROBIN, PrimaryReads.ALWAYS,
                List.of("nextval", "setval", "public.bump_counter"), VolatileFunctions.PRIMARY, Consistency.GLOBAL,
                Duration.ofMillis(250), new MaxLag(16L * 1024 * 1024, Duration.ofSeconds(5))), config.routing());
        assertEquals(new Http("0.0.0.0", 9930), config.http());
        assertEquals(new Monitor(Duration.ofSeconds(2), Duration.ofMillis(5), Duration.ofSeconds(3),
                Duration.ofSeconds(4), "monitor", "m0n", "ops"), config.monitor());
        assertEquals(new Admin(List.of("report")), config.admin());
        assertEquals(new Backend("db-0.internal", 5432, Role.PRIMARY, 1, 100), config.primary());
        assertEquals("config OK: listen 0.0.0.0:7432, session pooling, pool size 50, 1 primary + 2 replicas,"
                + " 2 users (md5), routing round-robin, consistency global", config.summary());
    }

    @Test
    void primaryIsFoundWhereverItIsListed() throws ConfigException {
        PgBalancerConfig config = parse(ConfigAssertions.AUTH + """
                backends:
                  - {host: r1, role: replica}
                  - {host: p, role: primary}
                """);
        assertEquals("p", config.primary().host());
    }

    @Test
    void trustAllowsUsersWithoutPassword() throws ConfigException {
        PgBalancerConfig config = parse("""
                auth:
                  method: trust
                  users: [{name: app}, {name: other, password: ~}]
                """ + ConfigAssertions.BACKENDS);
        assertEquals(List.of(new User("app", null), new User("other", null)), config.auth().users());
    }

    @Test
    void emptySectionsMeanDefaults() throws ConfigException {
        PgBalancerConfig config = parse(MINIMAL + "pool:\n  # size: 10\nlimits: {}\nshutdown:\nrouting:\nmonitor:\n");
        assertEquals(Pool.defaults(), config.pool());
        assertEquals(Limits.defaults(), config.limits());
        assertEquals(Shutdown.defaults(), config.shutdown());
        assertEquals(Routing.defaults(), config.routing());
        assertEquals(parse(MINIMAL).monitor(), config.monitor());
    }

    @Test
    void explicitNullMaxConnectionsMeansUnlimited() throws ConfigException {
        PgBalancerConfig config = parse(ConfigAssertions.AUTH
                + "backends: [{host: h, role: primary, max_connections: null}]\n");
        assertNull(config.primary().maxConnections());
    }

    @Test
    void quotedNumbersAndYamlMergeKeysAreAccepted() throws ConfigException {
        PgBalancerConfig config = parse(ConfigAssertions.AUTH + """
                listen: {port: "6433"}
                backends:
                  - &base {host: db-0, port: 5440, role: primary, weight: 2}
                  - {<<: *base, host: db-1, role: replica}
                """);
        assertEquals(6433, config.listen().port());
        assertEquals(new Backend("db-1", 5440, Role.REPLICA, 2, null), config.backends().get(1));
    }

    @Test
    void sizeLimitsAreInclusive() throws ConfigException {
        assertEquals(1024, parse(MINIMAL + "limits: {max_message_size: 1kB}\n").limits().maxMessageSize());
        assertEquals(1 << 30, parse(MINIMAL + "limits: {max_message_size: 1GiB}\n").limits().maxMessageSize());
        assertEquals(65536, parse(MINIMAL + "limits: {max_message_size: 65536}\n").limits().maxMessageSize());
    }

    @Test
    void loadReadsFileAndUsesFileNameInReport(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgbalancer.yaml");
        Files.writeString(file, README_EXAMPLE, StandardCharsets.UTF_8);
        assertEquals("s3cret",
                ConfigLoader.load(file, Map.of("APP_PASSWORD", "s3cret")).auth().users().get(0).password());

        Files.writeString(file, MINIMAL + "pool: {sise: 3}\n", StandardCharsets.UTF_8);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(file.toString(), e.sourceName());
        assertEquals(file + ": 1 problem\n  " + file + ":4:8: pool.sise: unknown key (expected one of: mode, size,"
                + " checkout_timeout, idle_timeout, max_lifetime, connect_timeout, max_prepared_statements)", e.report());
    }

    @Test
    void missingFileIsAConfigException(@TempDir Path dir) {
        Path file = dir.resolve("nope.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(List.of(new ConfigProblem("(file)", "cannot read " + file + ": no such file")), e.problems());
    }

    @Test
    void directoryIsAConfigException(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, Map.of()));
        assertEquals("(file)", e.problems().get(0).path());
        assertTrue(e.problems().get(0).message().startsWith("cannot read " + dir + ": "));
    }

    @Test
    void invalidUtf8IsAConfigException(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(List.of("(file): cannot read " + file + ": not valid UTF-8"),
                e.problems().stream().map(ConfigProblem::toString).toList());
    }

    @Test
    void userToStringHidesPassword() {
        assertEquals("User[name=app, password=***]", new User("app", "hunter2").toString());
    }

    @Test
    void ioThreadsCanBeSet() throws ConfigException {
        PgBalancerConfig config = ConfigLoader.parse(ConfigAssertions.MINIMAL + "listen: {io_threads: 3}\n", Map.of(),
                "test");
        assertEquals(3, config.listen().ioThreads());
        assertEquals(3, config.listen().effectiveIoThreads());
    }

    @Test
    void metricsAreOffUnlessAPortIsGiven() throws ConfigException {
        assertEquals(Http.defaults(), ConfigLoader.parse(ConfigAssertions.MINIMAL, Map.of(), "test").http());
        PgBalancerConfig old = ConfigLoader.parse(ConfigAssertions.MINIMAL + "metrics: {host: 0.0.0.0, port: 9930}\n",
                Map.of(), "test");
        assertEquals(new Http("0.0.0.0", 9930), old.http(), "the old section name still works");
        assertEquals(java.util.List.of("metrics: is deprecated, use http: (same keys, host and port)"), old.warnings());
        PgBalancerConfig current = ConfigLoader.parse(ConfigAssertions.MINIMAL + "http: {host: 0.0.0.0, port: 9930}\n",
                Map.of(), "test");
        assertEquals(new Http("0.0.0.0", 9930), current.http());
        assertEquals(java.util.List.of(), current.warnings());
        assertTrue(current.http().enabled());
    }
}

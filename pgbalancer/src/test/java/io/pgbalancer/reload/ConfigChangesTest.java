// What a reload reports and keeps: restart-only keys (listen, http, pool.mode, discovery), backend and user changes, secrets.
package io.pgbalancer.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.PoolMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigChangesTest {
    private static final String USERS = "auth: {users: [{name: app, password: s3cret}]}\n";
    private static final String BACKENDS = """
            backends:
              - {host: db0, port: 5432, role: primary}
              - {host: db1, port: 5433, role: replica}
            """;

    private static PgBalancerConfig config(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, Map.of(), "test");
    }

    private static List<String> messages(ConfigChanges c) {
        List<String> all = new ArrayList<>(c.applied());
        all.addAll(c.needRestart());
        return all;
    }

    @Test
    void identicalConfigurationsChangeNothing() throws Exception {
        String yaml = USERS + BACKENDS + "pool: {size: 7}\nhttp: {port: 9090}\n";
        PgBalancerConfig running = config(yaml);
        ConfigChanges c = ConfigChanges.between(running, config(yaml));
        assertTrue(c.isEmpty(), messages(c).toString());
        assertEquals(List.of(), c.applied());
        assertEquals(List.of(), c.needRestart());
        assertEquals(running, c.effective());
    }

    @Test
    void aDiscoveryChangeNeedsARestartAndTheRunningSourcesStay() throws Exception {
        PgBalancerConfig running = config(USERS + BACKENDS + "discovery: {dns: [{name: a.example, port: 5432}]}\n");
        PgBalancerConfig next = config(USERS + BACKENDS + "discovery: {dns: [{name: b.example, port: 5432}]}\n"
                + "pool: {size: 9}\n");
        ConfigChanges c = ConfigChanges.between(running, next);
        assertEquals(List.of("discovery (its sources are started once; the running ones stay)"), c.needRestart());
        assertEquals(running.discovery(), c.effective().discovery());
        assertEquals(9, c.effective().pool().size(), "the rest applies");
    }

    @Test
    void listenHttpAndPoolModeNeedARestartAndKeepTheirRunningValuesWhileTheRestApplies() throws Exception {
        PgBalancerConfig running = config(USERS + BACKENDS + """
                listen: {host: 127.0.0.1, port: 6432}
                http: {port: 9090}
                pool: {mode: transaction, size: 10, checkout_timeout: 5s}
                """);
        PgBalancerConfig next = config(USERS + BACKENDS + """
                listen: {host: 127.0.0.1, port: 7000}
                http: {port: 9191}
                pool: {mode: session, size: 30, checkout_timeout: 2s}
                """);
        ConfigChanges c = ConfigChanges.between(running, next);

        assertEquals(3, c.needRestart().size(), c.needRestart().toString());
        String listen = c.needRestart().get(0);
        assertTrue(listen.startsWith("listen"), listen);
        assertTrue(listen.contains("running 127.0.0.1:6432") && listen.contains("file says 127.0.0.1:7000"), listen);
        String http = c.needRestart().get(1);
        assertTrue(http.startsWith("http"), http);
        assertTrue(http.contains("9090") && http.contains("9191"), http);
        String mode = c.needRestart().get(2);
        assertTrue(mode.startsWith("pool.mode"), mode);
        assertTrue(mode.contains("running transaction") && mode.contains("file says session"), mode);

        PgBalancerConfig effective = c.effective();
        assertEquals(running.listen(), effective.listen());
        assertEquals(running.http(), effective.http());
        assertEquals(PoolMode.TRANSACTION, effective.pool().mode());
        assertEquals(30, effective.pool().size(), "the new pool size applies");
        assertEquals(Duration.ofSeconds(2), effective.pool().checkoutTimeout(), "the new checkout_timeout applies");
        assertEquals(next.backends(), effective.backends());
        assertEquals(next.auth(), effective.auth());
        assertEquals(List.of("pool"), c.applied());
        assertFalse(c.isEmpty());
    }

    @Test
    void anIoThreadsChangeIsAListenChangeThatNeedsARestart() throws Exception {
        PgBalancerConfig running = config(USERS + BACKENDS + "listen: {io_threads: 2}\n");
        ConfigChanges c = ConfigChanges.between(running, config(USERS + BACKENDS + "listen: {io_threads: 4}\n"));
        assertEquals(1, c.needRestart().size(), c.needRestart().toString());
        assertTrue(c.needRestart().get(0).contains("io_threads 2") && c.needRestart().get(0).contains("io_threads 4"),
                c.needRestart().get(0));
        assertEquals(2, c.effective().listen().ioThreads());
    }

    @Test
    void onlyAPoolModeChangeAppliesNothingButIsStillReported() throws Exception {
        PgBalancerConfig running = config(USERS + BACKENDS + "pool: {mode: transaction}\n");
        ConfigChanges c = ConfigChanges.between(running, config(USERS + BACKENDS + "pool: {mode: session}\n"));
        assertEquals(List.of(), c.applied(), "the pool section is otherwise the same");
        assertEquals(1, c.needRestart().size());
        assertFalse(c.isEmpty());
        assertEquals(running, c.effective(), "nothing of the new file takes effect");
    }

    @Test
    void eachBackendAddedRemovedReweightedRecappedOrRecastIsDescribed() throws Exception {
        PgBalancerConfig running = config(USERS + """
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica, weight: 1}
                  - {host: db2, port: 5434, role: replica, max_connections: 5}
                  - {host: db3, port: 5435, role: replica}
                  - {host: db4, port: 5436, role: replica}
                  - {host: db6, port: 5438, role: replica, weight: 2}
                """);
        PgBalancerConfig next = config(USERS + """
                backends:
                  - {host: db0, port: 5432, role: replica}
                  - {host: db1, port: 5433, role: replica, weight: 3}
                  - {host: db2, port: 5434, role: replica}
                  - {host: db3, port: 5435, role: primary}
                  - {host: db5, port: 5437, role: replica}
                  - {host: db6, port: 5438, role: replica, weight: 4, max_connections: 8}
                """);
        ConfigChanges c = ConfigChanges.between(running, next);
        assertEquals(List.of(
                "backend db0:5432: role primary -> replica",
                "backend db1:5433: weight 1 -> 3",
                "backend db2:5434: max_connections 5 -> unlimited",
                "backend db3:5435: role replica -> primary",
                "backend db5:5437 added (replica)",
                "backend db6:5438: weight 2 -> 4",
                "backend db6:5438: max_connections unlimited -> 8",
                "backend db4:5436 removed (replica; drains)"), c.applied());
        assertEquals(List.of(), c.needRestart());
        assertEquals(next.backends(), c.effective().backends());
    }

    @Test
    void usersAddedRemovedOrGivenANewPasswordAreListedWithoutAnyPassword() throws Exception {
        PgBalancerConfig running = config(BACKENDS + """
                auth:
                  users:
                    - {name: app, password: 0ld-Pa55}
                    - {name: ops, password: 0ps-Pa55}
                    - {name: gone, password: G0ne-Pa55}
                monitor: {user: ops}
                """);
        PgBalancerConfig next = config(BACKENDS + """
                auth:
                  users:
                    - {name: app, password: N3w-Pa55}
                    - {name: ops, password: 0ps-Pa55}
                    - {name: fresh, password: Fr3sh-Pa55}
                monitor: {user: ops}
                """);
        ConfigChanges c = ConfigChanges.between(running, next);
        assertEquals(List.of("user app: new password", "user fresh added", "user gone removed"), c.applied());
        assertEquals(next.auth(), c.effective().auth());
    }

    @Test
    void noMessageEverShowsAPasswordOfEitherConfiguration() throws Exception {
        // every section that holds a secret changes: user passwords, the monitor's password, auth.method
        PgBalancerConfig running = config(BACKENDS + """
                auth:
                  method: scram-sha-256
                  users: [{name: app, password: 0ld-Pa55}, {name: gone, password: G0ne-Pa55}]
                monitor: {user: mon, password: M0n-0ld}
                listen: {port: 6432}
                """);
        PgBalancerConfig next = config(BACKENDS + """
                auth:
                  method: md5
                  users: [{name: app, password: N3w-Pa55}, {name: fresh, password: Fr3sh-Pa55}]
                monitor: {user: mon, password: M0n-N3w}
                listen: {port: 6433}
                """);
        ConfigChanges c = ConfigChanges.between(running, next);
        List<String> all = messages(c);
        assertTrue(all.contains("auth.method"), all.toString());
        assertTrue(all.contains("monitor"), all.toString());
        assertTrue(all.contains("user app: new password"), all.toString());
        for (String secret : List.of("0ld-Pa55", "N3w-Pa55", "G0ne-Pa55", "Fr3sh-Pa55", "M0n-0ld", "M0n-N3w")) {
            for (String m : all) {
                assertFalse(m.contains(secret), "a message shows a password: " + m);
            }
        }
    }

    @Test
    void otherSectionsAreNamedWhenTheyChange() throws Exception {
        PgBalancerConfig running = config(USERS + BACKENDS);
        ConfigChanges c = ConfigChanges.between(running, config(USERS + BACKENDS + """
                routing: {balance: round-robin}
                limits: {max_client_connections: 77}
                shutdown: {grace_period: 3s}
                """));
        assertEquals(List.of("routing", "limits", "shutdown"), c.applied());
        assertEquals(List.of(), c.needRestart());
    }
}

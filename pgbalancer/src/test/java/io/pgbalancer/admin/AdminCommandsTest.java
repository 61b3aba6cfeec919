// Tests the admin console commands: parsing (case, ';', arguments), each SHOW's columns and values, BAN/UNBAN, errors.
package io.pgbalancer.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.ReadReason;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionServices;
import io.pgbalancer.session.SessionTracker;
import io.pgbalancer.sql.StatementClassifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminCommandsTest {
    private DefaultEventLoopGroup sweeper;
    private SessionServices services;
    private AdminCommands commands;

    @BeforeEach
    void setUp() throws Exception {
        PgBalancerConfig config = ConfigLoader.parse("""
                auth: {users: [{name: app, password: s3cret}, {name: ops, password: 0ps}]}
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica, weight: 3}
                  - {host: db2, port: 5434, role: replica}
                monitor: {password: m0n}
                admin: {users: [ops]}
                """, Map.of(), "test");
        sweeper = new DefaultEventLoopGroup(1);
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), user -> "x", sweeper);
        services = new SessionServices(config, pools, new StatementClassifier(Set.of(), 100), new CancelRegistry(),
                new SessionTracker(), new Router(config));
        commands = new AdminCommands(services, sweeper.next(), new io.pgbalancer.admin.ProxyControl() {
            @Override
            public void shutdown() {
            }

            @Override
            public io.pgbalancer.reload.ConfigReloader.Outcome reload(String trigger) {
                return new io.pgbalancer.reload.ConfigReloader.Outcome(false, "no file in this test");
            }
        });
    }

    @AfterEach
    void tearDown() {
        sweeper.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    private AdminReply.Rows rows(String command) {
        return assertInstanceOf(AdminReply.Rows.class, commands.run(command));
    }

    private AdminReply.Failed failed(String command) {
        return assertInstanceOf(AdminReply.Failed.class, commands.run(command));
    }

    private static String value(AdminReply.Rows rows, String key) {
        return rows.rows().stream().filter(r -> r.get(0).equals(key)).findFirst().orElseThrow().get(1);
    }

    @Test
    void splitsOnSemicolonsAndDropsEmptyCommands() {
        assertEquals(List.of("SHOW POOLS"), AdminQuery.split("SHOW POOLS;"));
        assertEquals(List.of("show pools", "SHOW CLIENTS"), AdminQuery.split(" show pools ;;\n SHOW CLIENTS ; "));
        assertEquals(List.of(), AdminQuery.split("  ;  "));
        assertEquals(List.of(), AdminQuery.split(""));
    }

    @Test
    void commandsAreCaseInsensitive() {
        assertEquals(BackendsView.COLUMNS, rows("show backends").columns());
        assertEquals(BackendsView.COLUMNS, rows("Show\tBackends").columns());
        assertEquals(PoolsView.COLUMNS, rows("SHOW pools").columns());
    }

    @Test
    void showBackendsListsEveryServerInConfigOrder() {
        AdminReply.Rows rows = rows("SHOW BACKENDS");
        assertEquals(List.of("backend", "role", "up", "banned", "wal_position", "lag_bytes", "lag_seconds", "weight",
                "outstanding", "transactions", "share_percent"), rows.columns());
        assertEquals(List.of("db0:5432", "db1:5433", "db2:5434"), rows.rows().stream().map(r -> r.get(0)).toList());
        assertEquals(List.of("db1:5433", "replica", "no", "no", "", "0", "0.000", "3", "0", "0", "0.0"),
                rows.rows().get(1));
        services.router().primary().checkedOut();
        services.router().primary().checkedOut();
        services.router().nodes().stream().filter(n -> n.backend().port() == 5434).findFirst().orElseThrow()
                .checkedOut();
        List<String> primary = rows("SHOW BACKENDS").rows().get(0);
        assertEquals("primary", primary.get(1));
        assertEquals("2", primary.get(8));
        assertEquals("2", primary.get(9));
        assertEquals("66.7", primary.get(10));
    }

    @Test
    void banKeepsTheServerBannedUntilUnban() {
        BackendNode db1 = BanCommand.find(services, "db1:5433").orElseThrow();
        assertEquals(new AdminReply.Done("BAN"), commands.run("ban DB1:5433"));
        assertTrue(db1.isBanned());
        db1.unban(); // the monitor seeing the server answer does not lift an admin ban
        assertTrue(db1.isBanned());
        assertEquals("admin", rows("SHOW BACKENDS").rows().get(1).get(3));
        assertEquals(new AdminReply.Done("UNBAN"), commands.run("UNBAN db1:5433"));
        assertFalse(db1.isBanned());
        assertEquals("no", rows("SHOW BACKENDS").rows().get(1).get(3));
    }

    @Test
    void banOfAnUnknownBackendNamesTheKnownOnes() {
        AdminReply.Failed f = failed("BAN db9:1");
        assertEquals("42704", f.sqlState());
        assertEquals("unknown backend \"db9:1\" (known: db0:5432, db1:5433, db2:5434)", f.message());
        assertEquals("42601", failed("BAN").sqlState());
        assertEquals("42601", failed("UNBAN a b").sqlState());
    }

    @Test
    void setAndResetThatDriversSendAfterLoginAreAcceptedAndChangeNothing() {
        AdminReply set = commands.run("SET application_name = 'PostgreSQL JDBC Driver'");
        assertEquals(new AdminReply.Done("SET"), set);
        assertEquals(new AdminReply.Done("RESET"), commands.run("reset extra_float_digits"));
        assertEquals("42601", failed("SET").sqlState());
    }

    @Test
    void unknownAndUnsupportedCommands() {
        AdminReply.Failed unknown = failed("SHOW ME");
        assertEquals("42601", unknown.sqlState());
        assertEquals("unknown admin command \"SHOW ME\"; try SHOW HELP", unknown.message());
        assertEquals("42601", failed("SELECT 1").sqlState());
        assertEquals("42601", failed("SHOW POOLS extra").sqlState());
        assertEquals("42601", failed("RELOAD now").sqlState());
        assertEquals("42601", failed("PAUSE a b").sqlState());
        assertEquals("42601", failed("SHUTDOWN now").sqlState());
    }

    @Test
    void reloadAnswersWithTheReloadersVerdictOnceItIsIn() throws Exception {
        AdminReply.Later later = assertInstanceOf(AdminReply.Later.class, commands.run("reload"));
        AdminReply.Failed failed = assertInstanceOf(AdminReply.Failed.class,
                later.reply().get(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals("F0000", failed.sqlState());
        assertEquals("configuration not reloaded, the running one stays: no file in this test", failed.message());
    }

    @Test
    void pauseWaitsForNothingWhenNoTransactionRunsAndResumeLiftsIt() throws Exception {
        AdminReply pause = commands.run("pause app");
        AdminReply.Later later = assertInstanceOf(AdminReply.Later.class, pause);
        assertEquals(new AdminReply.Done("PAUSE"), later.reply().get(5, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(services.pauses().holds("app"));
        assertEquals(new AdminReply.Done("RESUME"), commands.run("RESUME app"));
        assertFalse(services.pauses().holds("app"));
    }

    @Test
    void showPoolsCountsEachPool() {
        assertEquals(List.of(), rows("SHOW POOLS").rows());
        services.pools().pool(services.router().primary(), "app", "shop");
        AdminReply.Rows rows = rows("SHOW POOLS");
        assertEquals(List.of("database", "user", "backend", "role", "pool_mode", "connections", "idle", "active",
                "waiting"), rows.columns());
        assertEquals(List.of(List.of("shop", "app", "db0:5432", "primary", "transaction", "0", "0", "0", "0")),
                rows.rows());
    }

    @Test
    void showClientsWithNoSessionsIsEmpty() {
        AdminReply.Rows rows = rows("SHOW CLIENTS");
        assertEquals(List.of("user", "database", "address", "state", "pinned"), rows.columns());
        assertEquals(List.of(), rows.rows());
    }

    @Test
    void showStatsCountsReadsByReason() {
        services.router().reads().count(ReadReason.CAUGHT_UP);
        services.router().reads().count(ReadReason.CAUGHT_UP);
        services.router().countRetry(true);
        AdminReply.Rows rows = rows("SHOW STATS");
        assertEquals(List.of("stat", "value"), rows.columns());
        assertEquals("2", value(rows, "reads_replica_caught_up"));
        assertEquals("0", value(rows, "reads_primary_lag"));
        assertEquals("1", value(rows, "read_retries_on_primary"));
        assertEquals("0", value(rows, "clients"));
    }

    @Test
    void showConfigHidesPasswords() {
        AdminReply.Rows rows = rows("SHOW CONFIG");
        assertEquals("***", value(rows, "auth.users[0].password"));
        assertEquals("ops", value(rows, "auth.users[1].name"));
        assertEquals("***", value(rows, "monitor.password"));
        assertEquals("transaction", value(rows, "pool.mode"));
        assertEquals("5s", value(rows, "pool.checkout_timeout"));
        assertEquals("db1", value(rows, "backends[1].host"));
        assertEquals("ops", value(rows, "admin.users"));
        assertEquals("50ms", value(rows, "routing.causal_wait"));
        assertTrue(rows.rows().stream().noneMatch(r -> r.get(1).contains("s3cret") || r.get(1).contains("0ps")
                || r.get(1).contains("m0n")), rows.rows().toString());
    }

    @Test
    void showVersionAndHelp() {
        AdminReply.Rows version = rows("SHOW VERSION");
        assertEquals(1, version.rows().size());
        assertTrue(version.rows().get(0).get(0).startsWith("pgbalancer "));
        AdminReply.Rows help = rows("show help");
        assertEquals(List.of("command", "description"), help.columns());
        assertTrue(help.rows().stream().anyMatch(r -> r.get(0).equals("BAN host:port")));
    }
}

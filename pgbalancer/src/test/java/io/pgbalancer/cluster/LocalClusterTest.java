// purpose: a real primary + 2 streaming replicas: replication, recovery flags, auth methods, replica stop/start/kill,
// primary restart
package io.pgbalancer.cluster;

import static io.pgbalancer.cluster.ClusterTestSupport.authRequestCode;
import static io.pgbalancer.cluster.ClusterTestSupport.awaitClosed;
import static io.pgbalancer.cluster.ClusterTestSupport.awaitValue;
import static io.pgbalancer.cluster.ClusterTestSupport.connect;
import static io.pgbalancer.cluster.ClusterTestSupport.exec;
import static io.pgbalancer.cluster.ClusterTestSupport.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class LocalClusterTest {
    private static LocalCluster cluster;

    @BeforeAll
    static void start() {
        cluster = LocalCluster.builder()
                .replicas(2)
                .user("app", "app-secret", "scram-sha-256")
                .user("legacy", "legacy-secret", "md5")
                .user("plain", "plain-secret", "password")
                .user("trusted", null, "trust")
                .database("appdb")
                .setting("work_mem", "8MB")
                .log(line -> System.out.println("[cluster] " + line))
                .start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void tableCreatedOnPrimaryIsVisibleOnBothReplicas() throws Exception {
        exec(cluster, cluster.primaryPort(), "CREATE TABLE repl_check(id int primary key, v text)");
        exec(cluster, cluster.primaryPort(), "INSERT INTO repl_check VALUES (1, 'one'), (2, 'two')");
        for (int port : cluster.replicaPorts()) {
            assertEquals("2", awaitValue(cluster, port, "SELECT count(*) FROM repl_check", "2", Duration.ofSeconds(20)),
                    "replica on port " + port);
        }
    }

    @Test
    void replicasAreInRecoveryAndPrimaryIsNot() throws Exception {
        assertEquals(2, cluster.replicaPorts().size());
        assertEquals("f", query(cluster, cluster.primaryPort(), "SELECT pg_is_in_recovery()"));
        for (int port : cluster.replicaPorts()) {
            assertEquals("t", query(cluster, port, "SELECT pg_is_in_recovery()"));
            SQLException e = assertThrows(SQLException.class, () -> exec(cluster, port, "CREATE TABLE nope(i int)"));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
        assertEquals("2", query(cluster, cluster.primaryPort(),
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"));
        assertEquals("8MB", query(cluster, cluster.primaryPort(), "SHOW work_mem"));
        assertEquals("300", query(cluster, cluster.replicaPorts().get(0), "SHOW max_connections"));
    }

    @Test
    void scramUserLogsInWithRightPasswordOnly() throws Exception {
        assertLogin("app", "app-secret", "wrong");
        assertEquals(10, authRequestCode(cluster.primaryPort(), "app", "appdb"), "server should ask for SASL/SCRAM");
        assertTrue(query(cluster, cluster.primaryPort(), "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")
                .startsWith("SCRAM-SHA-256$"));
    }

    @Test
    void md5UserReallyUsesMd5() throws Exception {
        assertLogin("legacy", "legacy-secret", "wrong");
        assertTrue(query(cluster, cluster.primaryPort(), "SELECT rolpassword FROM pg_authid WHERE rolname = 'legacy'")
                .startsWith("md5"));
        assertEquals(5, authRequestCode(cluster.primaryPort(), "legacy", "appdb"), "server should ask for MD5");
        assertEquals(5, authRequestCode(cluster.replicaPorts().get(1), "legacy", "appdb"), "replica too");
    }

    @Test
    void passwordUserGetsCleartextChallenge() throws Exception {
        assertLogin("plain", "plain-secret", "wrong");
        assertEquals(3, authRequestCode(cluster.primaryPort(), "plain", "appdb"), "server should ask for a cleartext password");
    }

    @Test
    void trustUserAndSuperuserNeedNoPassword() throws Exception {
        assertEquals(0, authRequestCode(cluster.primaryPort(), "trusted", "postgres"));
        assertEquals(0, authRequestCode(cluster.primaryPort(), "postgres", "postgres"));
        // anyone else falls through to the final scram-sha-256 line
        assertEquals(10, authRequestCode(cluster.primaryPort(), "nobody", "postgres"));
    }

    @Test
    void databaseIsOwnedByFirstUserAndEnvFileIsWritten() throws Exception {
        assertEquals("app", query(cluster, cluster.primaryPort(),
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'"));
        try (Connection c = connect(cluster, cluster.replicaPorts().get(0), "appdb", "app", "app-secret")) {
            assertEquals("appdb", query(c, "SELECT current_database()"));
        }
        Map<String, String> env = Files.readAllLines(cluster.dataDir().resolve("cluster.env")).stream()
                .filter(l -> l.contains("="))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
        assertEquals(Integer.toString(cluster.primaryPort()), env.get("PRIMARY_PORT"));
        assertEquals(cluster.replicaPorts().stream().map(String::valueOf).collect(Collectors.joining(",")), env.get("REPLICA_PORTS"));
        assertEquals(cluster.binaries().binDir().toString(), env.get("PG_BIN"));
        assertEquals("127.0.0.1", cluster.host());
        assertEquals("jdbc:postgresql://127.0.0.1:" + cluster.primaryPort() + "/appdb", cluster.jdbcUrl(cluster.primaryPort(), "appdb"));
        assertTrue(cluster.binaries().find("psql").isPresent() || cluster.binaries().isEmbedded());
        assertTrue(cluster.binaries().version().startsWith(cluster.binaries().majorVersion() + "."));
    }

    @Test
    void stopAndStartReplica() throws Exception {
        int port = cluster.replicaPorts().get(1);
        cluster.stopReplica(1);
        try {
            assertTrue(awaitClosed(port, Duration.ofSeconds(5)), "stopped replica still accepts connections");
            assertEquals("1", query(cluster, cluster.primaryPort(),
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"));
            exec(cluster, cluster.primaryPort(), "CREATE TABLE while_down AS SELECT generate_series(1, 100) AS i");
        } finally {
            cluster.startReplica(1);
        }
        int newPort = cluster.replicaPorts().get(1);
        assertEquals("100", awaitValue(cluster, newPort, "SELECT count(*) FROM while_down", "100", Duration.ofSeconds(20)));
        assertEquals("t", query(cluster, newPort, "SELECT pg_is_in_recovery()"));
        assertThrows(IndexOutOfBoundsException.class, () -> cluster.stopReplica(2));
    }

    @Test
    void killReplicaThenStartItAgain() throws Exception {
        int port = cluster.replicaPorts().get(0);
        cluster.killReplica(0); // SIGKILL: no shutdown checkpoint; its children exit with it
        try {
            assertTrue(awaitClosed(port, Duration.ofSeconds(5)), "killed replica still accepts connections");
            exec(cluster, cluster.primaryPort(), "CREATE TABLE while_killed AS SELECT generate_series(1, 50) AS i");
        } finally {
            cluster.startReplica(0); // crash recovery, then streaming again
        }
        int newPort = cluster.replicaPorts().get(0);
        assertEquals("50", awaitValue(cluster, newPort, "SELECT count(*) FROM while_killed", "50", Duration.ofSeconds(20)));
        assertEquals("t", query(cluster, newPort, "SELECT pg_is_in_recovery()"));
    }

    @Test
    void restartPrimaryKeepsItsPortAndData() throws Exception {
        int port = cluster.primaryPort();
        exec(cluster, port, "CREATE TABLE before_restart AS SELECT generate_series(1, 10) AS i");
        try (Connection held = connect(cluster, port, "appdb", "app", "app-secret")) {
            cluster.restartPrimary();
            assertThrows(SQLException.class, () -> query(held, "SELECT 1"), "a session survived the restart");
        }
        assertEquals(port, cluster.primaryPort());
        assertEquals("10", query(cluster, port, "SELECT count(*) FROM before_restart"));
        assertEquals("f", query(cluster, port, "SELECT pg_is_in_recovery()"));
        // the replicas reconnect by themselves (within wal_retrieve_retry_interval); the other tests expect them
        assertEquals("2", awaitValue(cluster, port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                "2", Duration.ofSeconds(30)));
    }

    private void assertLogin(String user, String right, String wrong) throws Exception {
        List<Integer> ports = new java.util.ArrayList<>(cluster.replicaPorts());
        ports.add(0, cluster.primaryPort());
        for (int port : ports) {
            try (Connection c = connect(cluster, port, "appdb", user, right)) {
                assertEquals(user, query(c, "SELECT current_user"));
            }
            SQLException e = assertThrows(SQLException.class, () -> connect(cluster, port, "appdb", user, wrong).close());
            assertEquals("28P01", e.getSQLState(), e.getMessage()); // invalid_password
        }
        assertFalse(right.equals(wrong));
    }
}

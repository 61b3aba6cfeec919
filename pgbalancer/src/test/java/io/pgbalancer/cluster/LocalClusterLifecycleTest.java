// purpose: LocalCluster lifecycle: close() stops everything, kept data dirs are reused, failures carry the server log
package io.pgbalancer.cluster;

import static io.pgbalancer.cluster.ClusterTestSupport.awaitClosed;
import static io.pgbalancer.cluster.ClusterTestSupport.awaitValue;
import static io.pgbalancer.cluster.ClusterTestSupport.exec;
import static io.pgbalancer.cluster.ClusterTestSupport.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class LocalClusterLifecycleTest {

    @Test
    void closeStopsAllServersAndDeletesTheTempDir() throws Exception {
        LocalCluster c = LocalCluster.builder().replicas(1).start();
        List<Integer> ports = new ArrayList<>(c.replicaPorts());
        ports.add(c.primaryPort());
        Path dir = c.dataDir();
        assertTrue(Files.isDirectory(dir.resolve("primary")));
        c.close();
        for (int port : ports) {
            assertTrue(awaitClosed(port, Duration.ofSeconds(5)), "port " + port + " still accepts connections");
        }
        assertFalse(Files.exists(dir), "temp dir should be deleted: " + dir);
        c.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> c.stopReplica(0));
    }

    @Test
    void keptDataDirIsReusedOnTheSamePorts() throws Exception {
        Path dir = Files.createTempDirectory("pgbalancer-kept-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            int primaryPort;
            List<Integer> replicaPorts;
            try (LocalCluster first = LocalCluster.builder().dataDir(dir).replicas(1)
                    .user("app", "s3cret", "scram-sha-256").start()) {
                primaryPort = first.primaryPort();
                replicaPorts = first.replicaPorts();
                exec(first, primaryPort, "CREATE TABLE survives AS SELECT 42 AS answer");
            }
            assertTrue(Files.isRegularFile(dir.resolve("primary/PG_VERSION")), "kept dir must survive close()");
            assertTrue(Files.readString(dir.resolve("cluster.properties")).contains("primary.port=" + primaryPort));

            try (LocalCluster second = LocalCluster.builder().dataDir(dir).replicas(1)
                    .user("app", "s3cret", "scram-sha-256").database("later").start()) {
                assertEquals(primaryPort, second.primaryPort());
                assertEquals(replicaPorts, second.replicaPorts());
                assertEquals("42", query(second, primaryPort, "SELECT answer FROM survives"));
                int replica = second.replicaPorts().get(0);
                assertEquals("42", awaitValue(second, replica, "SELECT answer FROM survives", "42", Duration.ofSeconds(20)));
                // the database created on the second start was replayed before start() returned
                assertEquals("1", query(second, replica, "SELECT count(*) FROM pg_database WHERE datname = 'later'"));
                assertEquals("t", query(second, replica, "SELECT pg_is_in_recovery()"));
            }

            // third start: someone else now holds the old primary port -> the primary moves, replicas follow
            try (ServerSocket squatter = new ServerSocket(primaryPort, 1, InetAddress.getByName("127.0.0.1"));
                 LocalCluster third = LocalCluster.builder().dataDir(dir).replicas(1).start()) {
                assertNotEquals(primaryPort, third.primaryPort());
                assertEquals("42", query(third, third.primaryPort(), "SELECT answer FROM survives"));
                exec(third, third.primaryPort(), "INSERT INTO survives VALUES (43)");
                int replica = third.replicaPorts().get(0);
                assertEquals("2", awaitValue(third, replica, "SELECT count(*) FROM survives", "2", Duration.ofSeconds(20)));
                assertTrue(Files.readString(dir.resolve("cluster.env")).contains("PRIMARY_PORT=" + third.primaryPort()));
                assertTrue(squatter.isBound());
            }
        } finally {
            ClusterFiles.deleteRecursively(dir);
        }
    }

    @Test
    void failedStartReportsCommandExitCodeAndServerLog() {
        ClusterException e = assertThrows(ClusterException.class, () -> LocalCluster.builder().replicas(0)
                .setting("shared_buffers", "not-a-size").start());
        String msg = e.getMessage();
        assertTrue(msg.contains("pg_ctl"), msg);
        assertTrue(msg.contains("exit code"), msg);
        assertTrue(msg.contains("server log"), msg);
        assertTrue(msg.contains("shared_buffers"), msg);
        var m = java.util.regex.Pattern.compile("server log (\\S+)/primary/server\\.log").matcher(msg);
        assertTrue(m.find(), msg);
        assertFalse(Files.exists(Path.of(m.group(1))), "temp dir of a failed start must be removed");
    }

    @Test
    void builderRejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().user("x", "pw", "ident"));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().user("bad name", "pw", "md5"));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().user("postgres", "pw", "md5"));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().user("u", null, "md5"));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().setting("port", "1"));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().replicas(-1));
    }
}

// purpose: the embedded (zonky) binaries route, forced via -Dpgbalancer.pg.embedded=true, runs a real primary + replica
package io.pgbalancer.cluster;

import static io.pgbalancer.cluster.ClusterTestSupport.awaitValue;
import static io.pgbalancer.cluster.ClusterTestSupport.exec;
import static io.pgbalancer.cluster.ClusterTestSupport.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(180)
class LocalClusterEmbeddedTest {

    @Test
    void embeddedBinariesRunAPrimaryAndAReplica() throws Exception {
        String old = System.getProperty(PgBinaries.FORCE_EMBEDDED_PROPERTY);
        System.setProperty(PgBinaries.FORCE_EMBEDDED_PROPERTY, "true");
        // a fresh cache dir, so the bundle really is extracted from the jar in this test
        Path cache = Files.createTempDirectory("pgbalancer-pgcache-");
        System.setProperty("pgbalancer.pg.cache", cache.toString());
        try (LocalCluster c = LocalCluster.builder().replicas(1).user("app", "pw", "md5")
                .log(line -> System.out.println("[embedded] " + line)).start()) {
            PgBinaries b = c.binaries();
            assertTrue(b.isEmbedded(), b.toString());
            assertTrue(b.binDir().startsWith(cache), b.binDir() + " should be under " + cache);
            assertTrue(Files.isRegularFile(b.binDir().resolve("../share/postgresql.conf.sample").normalize())
                    || Files.isDirectory(b.binDir().resolve("../share")), "share/ extracted");
            assertTrue(b.find("psql").isEmpty(), "the embedded bundle has no psql");
            assertTrue(b.find("pgbench").isEmpty());
            assertThrows(ClusterException.class, () -> b.bin("pgbench"));
            assertTrue(b.version().matches("\\d+\\.\\d+"), b.version());
            assertEquals(b.version(), query(c, c.primaryPort(), "SHOW server_version").split(" ")[0]);

            exec(c, c.primaryPort(), "CREATE TABLE t AS SELECT generate_series(1, 10) AS i");
            int replica = c.replicaPorts().get(0);
            assertEquals("10", awaitValue(c, replica, "SELECT count(*) FROM t", "10", Duration.ofSeconds(20)));
            assertEquals("t", query(c, replica, "SELECT pg_is_in_recovery()"));
            assertTrue(query(c, c.primaryPort(), "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'").startsWith("md5"));
        } finally {
            System.clearProperty("pgbalancer.pg.cache");
            ClusterFiles.deleteRecursively(cache);
            if (old == null) {
                System.clearProperty(PgBinaries.FORCE_EMBEDDED_PROPERTY);
            } else {
                System.setProperty(PgBinaries.FORCE_EMBEDDED_PROPERTY, old);
            }
        }
    }
}

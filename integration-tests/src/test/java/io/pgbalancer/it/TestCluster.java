// One real PostgreSQL primary + 3 streaming replicas shared by every integration test in the JVM.
package io.pgbalancer.it;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Users: {@code app} (scram-sha-256, owns database {@code app}), {@code md5user} (md5), {@code clearuser}
 * (cleartext password), {@code trustuser} (trust). The superuser {@code postgres} connects directly without a password.
 */
public final class TestCluster {
    public static final String APP_PASSWORD = "app-secret";
    public static final String MD5_PASSWORD = "md5-secret";
    public static final String CLEAR_PASSWORD = "clear-secret";

    private static LocalCluster cluster;

    private TestCluster() {
    }

    public static synchronized LocalCluster get() {
        if (cluster == null) {
            cluster = LocalCluster.builder().replicas(3)
                    .user("app", APP_PASSWORD, "scram-sha-256")
                    .user("md5user", MD5_PASSWORD, "md5")
                    .user("clearuser", CLEAR_PASSWORD, "password")
                    .user("trustuser", null, "trust")
                    .database("app")
                    .setting("max_connections", "400")
                    .log(line -> System.out.println("[cluster] " + line))
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
        }
        return cluster;
    }

    /** A direct superuser connection to the primary, bypassing pgbalancer. */
    public static Connection directSuperuser(String database) throws SQLException {
        LocalCluster c = get();
        return DriverManager.getConnection(c.jdbcUrl(c.primaryPort(), database), "postgres", "");
    }
}

// purpose: test helper: what a server itself says, on a direct superuser connection that bypasses pgbalancer.
package io.pgbalancer.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

final class Servers {
    private Servers() {
    }

    /** Connections user app holds on the server at {@code port}: pgbalancer's pools, not its monitor. */
    static int appConnections(int port) throws SQLException {
        try (Connection c = DriverManager.getConnection(TestCluster.get().jdbcUrl(port, "app"), "postgres", "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"
                     + " AND application_name <> 'pgbalancer-monitor' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}

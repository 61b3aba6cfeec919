// The shortest end-to-end check: pgjdbc through pgbalancer reaches the primary and gets its own answer back.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class SmokeIT {
    @Test
    void queryThroughProxyReachesPrimary() throws Exception {
        try (TestProxy proxy = TestProxy.start(2); Connection c = proxy.connect("ApplicationName", "smoke")) {
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("select current_setting('application_name'), pg_is_in_recovery(), "
                    + "inet_server_port()");
            rs.next();
            assertEquals("smoke", rs.getString(1));
            assertFalse(rs.getBoolean(2));
            assertEquals(TestCluster.get().primaryPort(), rs.getInt(3));
        }
    }
}

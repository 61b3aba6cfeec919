// purpose: connection limits against abuse: connections count from accept (idle sockets that never log in use the
// limit up), limits.auth_timeout closes them (slowloris), a user's own max_connections, each refusal FATAL 53300.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LimitsIT {
    private static Socket idleSocket(TestProxy proxy) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2_000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Everything the server sends until it closes the connection. */
    private static String readToEnd(Socket s) throws Exception {
        InputStream in = s.getInputStream();
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    private static int one(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void connectionsCountFromAcceptSoSocketsThatNeverLogInUseTheLimitUp() throws Exception {
        try (TestProxy proxy = TestProxy.start("limits: {max_client_connections: 2, auth_timeout: 30s}\n")) {
            List<Socket> idle = new ArrayList<>();
            try {
                idle.add(idleSocket(proxy));
                idle.add(idleSocket(proxy));
                Poll.until(Duration.ofSeconds(5), "the refusal once both sockets are counted", () -> {
                    try (Connection c = proxy.connect()) {
                        return false;
                    } catch (SQLException e) {
                        assertEquals("53300", e.getSQLState(), e.getMessage());
                        assertTrue(e.getMessage().contains("limits.max_client_connections 2, counted from accept"),
                                e.getMessage());
                        return true;
                    }
                });
            } finally {
                for (Socket s : idle) {
                    s.close();
                }
            }
            Connection c = Poll.untilValue(Duration.ofSeconds(5), "a login once the sockets closed", () -> {
                try {
                    return proxy.connect();
                } catch (SQLException e) {
                    return null;
                }
            }, x -> x != null);
            try (c) {
                assertEquals(1, one(c));
            }
        }
    }

    @Test
    void aConnectionThatDoesNotLogInWithinAuthTimeoutIsClosedWith53300() throws Exception {
        try (TestProxy proxy = TestProxy.start("limits: {auth_timeout: 500ms}\n");
             Socket slow = idleSocket(proxy); Connection normal = proxy.connect()) {
            long t0 = System.nanoTime();
            String answer = readToEnd(slow); // sends nothing: the proxy ends it
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(answer.startsWith("E"), "an ErrorResponse: " + answer);
            assertTrue(answer.contains("53300") && answer.contains("limits.auth_timeout (500 ms)"), answer);
            assertTrue(millis < 9_000, "closed by auth_timeout, not by the test's read timeout: " + millis + " ms");
            assertEquals(1, one(normal), "a logged-in client is not affected");
            Thread.sleep(700); // past the auth timeout: logged-in clients stay
            assertEquals(1, one(normal));
        }
    }

    @Test
    void aUsersOwnMaxConnectionsRefusesItsNextLoginOnly() throws Exception {
        String auth = "auth:\n  method: scram-sha-256\n  users:\n"
                + "    - {name: app, password: \"${APP_PASSWORD}\"}\n"
                + "    - {name: md5user, password: \"${MD5_PASSWORD}\", max_connections: 1}\n";
        try (TestProxy proxy = TestProxy.start(auth);
             Connection first = DriverManager.getConnection(proxy.jdbcUrl("app"), "md5user",
                     TestCluster.MD5_PASSWORD)) {
            SQLException refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                    proxy.jdbcUrl("app"), "md5user", TestCluster.MD5_PASSWORD).close());
            assertEquals("53300", refused.getSQLState(), refused.getMessage());
            assertTrue(refused.getMessage().contains("too many connections for user \"md5user\""
                    + " (auth.users max_connections 1)"), refused.getMessage());
            try (Connection other = proxy.connect()) {
                assertEquals(1, one(other), "other users are not limited by it");
            }
            assertEquals(1, one(first));
            first.close();
            Connection again = Poll.untilValue(Duration.ofSeconds(5), "a login once the first one closed", () -> {
                try {
                    return DriverManager.getConnection(proxy.jdbcUrl("app"), "md5user", TestCluster.MD5_PASSWORD);
                } catch (SQLException e) {
                    return null;
                }
            }, x -> x != null);
            try (again) {
                assertEquals(1, one(again));
            }
        }
    }
}

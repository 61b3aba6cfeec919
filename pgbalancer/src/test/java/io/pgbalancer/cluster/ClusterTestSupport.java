// purpose: helpers shared by the LocalCluster tests: JDBC shortcuts, polling, and a raw probe of the server's auth request
package io.pgbalancer.cluster;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

final class ClusterTestSupport {
    private ClusterTestSupport() {
    }

    static Connection connect(LocalCluster c, int port, String db, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(c.jdbcUrl(port, db), p);
    }

    static Connection superuser(LocalCluster c, int port) throws SQLException {
        return connect(c, port, "postgres", "postgres", null);
    }

    static String query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static String query(LocalCluster c, int port, String sql) throws SQLException {
        try (Connection conn = superuser(c, port)) {
            return query(conn, sql);
        }
    }

    static void exec(LocalCluster c, int port, String sql) throws SQLException {
        try (Connection conn = superuser(c, port); Statement st = conn.createStatement()) {
            st.execute(sql);
        }
    }

    /** Polls a query until it returns the expected value; returns the last value seen. */
    static String awaitValue(LocalCluster c, int port, String sql, String expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = query(c, port, sql);
                if (expected.equals(last)) {
                    return last;
                }
            } catch (SQLException e) {
                last = e.getMessage();
            }
            Thread.sleep(50);
        }
        return last;
    }

    static boolean awaitClosed(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (FreePorts.isClosed(port)) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /**
     * Sends a v3 StartupMessage and returns the code of the first Authentication ('R') message:
     * 0 ok, 3 cleartext password, 5 MD5, 10 SASL (SCRAM).
     */
    static int authRequestCode(int port, String user, String database) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            DataOutputStream b = new DataOutputStream(body);
            b.writeInt(196608);
            for (String kv : new String[] {"user", user, "database", database}) {
                b.write(kv.getBytes(StandardCharsets.UTF_8));
                b.write(0);
            }
            b.write(0);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(body.size() + 4);
            body.writeTo(out);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int type = in.readUnsignedByte();
            int len = in.readInt();
            if (type != 'R') {
                byte[] rest = in.readNBytes(len - 4);
                throw new IOException("expected 'R', got '" + (char) type + "': " + new String(rest, StandardCharsets.UTF_8));
            }
            return in.readInt();
        }
    }
}

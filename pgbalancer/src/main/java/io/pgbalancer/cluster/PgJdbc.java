// purpose: small pgjdbc helpers for the harness: connect with timeouts, single-value queries, SQL quoting, polling
package io.pgbalancer.cluster;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

final class PgJdbc {
    static final String HOST = "127.0.0.1";
    static final String SUPERUSER = "postgres";
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$.\\-]{0,62}");
    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    private PgJdbc() {
    }

    static String url(int port, String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + database;
    }

    /** Connects without going through DriverManager, with connect/login/socket timeouts. */
    static Connection connect(int port, String database, String user, String password, int socketTimeoutSeconds)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("loginTimeout", "10");
        props.setProperty("socketTimeout", Integer.toString(socketTimeoutSeconds));
        props.setProperty("ApplicationName", "pgbalancer-cluster");
        Connection c = DRIVER.connect(url(port, database), props);
        if (c == null) {
            throw new SQLException("pgjdbc rejected URL " + url(port, database));
        }
        return c;
    }

    /** Superuser connection to the "postgres" database. */
    static Connection superuser(int port) throws SQLException {
        return connect(port, "postgres", SUPERUSER, null, 120);
    }

    static String queryString(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Validates a role or database name so it can be quoted safely in SQL and pg_hba.conf. */
    static String checkName(String kind, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(kind + " name must match " + NAME.pattern() + ": " + name);
        }
        return name;
    }

    static String ident(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    static String literal(String value) {
        return value == null ? "NULL" : "'" + value.replace("'", "''") + "'";
    }

    /** Polls until the condition holds; false when the deadline passes first. */
    static boolean await(Duration timeout, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClusterException("interrupted while waiting", e);
            }
        }
    }
}

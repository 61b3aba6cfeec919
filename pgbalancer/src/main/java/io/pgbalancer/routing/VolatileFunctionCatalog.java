// Looks up once, on the primary, the functions pg_proc marks volatile (routing.volatile_functions: primary).
package io.pgbalancer.routing;

import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.User;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;

/**
 * As pgpool-II does: a statement that calls a volatile function may change something, so it goes to the primary.
 * The names come from database {@code postgres} (built-in functions, and those of extensions installed there), read
 * as the first configured user; functions created later or only in other databases are not seen.
 */
public final class VolatileFunctionCatalog {
    private VolatileFunctionCatalog() {
    }

    public static Set<String> load(PgBalancerConfig config) {
        User user = config.auth().users().get(0);
        String url = "jdbc:postgresql://" + config.primary().host() + ":" + config.primary().port() + "/postgres";
        Properties props = new Properties();
        props.setProperty("user", user.name());
        if (user.password() != null) {
            props.setProperty("password", user.password());
        }
        props.setProperty("connectTimeout", Long.toString(Math.max(1, config.pool().connectTimeout().toSeconds())));
        props.setProperty("ApplicationName", "pgbalancer volatile function lookup");
        try (Connection c = DriverManager.getConnection(url, props);
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT DISTINCT lower(proname) FROM pg_catalog.pg_proc"
                     + " WHERE provolatile = 'v'")) {
            Set<String> names = new HashSet<>();
            while (rs.next()) {
                names.add(rs.getString(1));
            }
            return names;
        } catch (SQLException e) {
            throw new IllegalStateException("routing.volatile_functions: primary needs the list of volatile functions,"
                    + " but reading pg_proc on the primary " + config.primary().host() + ":" + config.primary().port()
                    + " (database postgres, user " + user.name() + ") failed: " + e.getMessage(), e);
        }
    }
}

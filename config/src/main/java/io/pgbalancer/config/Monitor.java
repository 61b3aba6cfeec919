// purpose: how pgbalancer watches each backend's role and replay position (YAML section "monitor")
package io.pgbalancer.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code user} and {@code password} log the monitor in to every backend; when the section does not name a user the
 * first of {@code auth.users} is used. {@code fastInterval} is the polling interval while a read waits for a replica
 * to replay a position.
 */
public record Monitor(Duration interval, Duration fastInterval, Duration connectTimeout, Duration queryTimeout,
                      String user, String password, String database) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_FAST_INTERVAL = Duration.ofMillis(1);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(2);
    public static final String DEFAULT_DATABASE = "postgres";

    public Monitor {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(fastInterval, "fastInterval");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(queryTimeout, "queryTimeout");
        Objects.requireNonNull(database, "database");
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "Monitor[interval=" + interval + ", fastInterval=" + fastInterval + ", user=" + user + ", database="
                + database + "]";
    }
}

// Polls one backend over its own small HikariCP pool: role, WAL positions, replay time; bans it while it fails.
package io.pgbalancer.monitor;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgbalancer.causal.Lsn;
import io.pgbalancer.config.Monitor;
import io.pgbalancer.routing.BackendNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on a thread of its own, never on an event loop. Each poll is one round trip. A failed poll bans the backend
 * from reads and the next poll comes after a backoff that doubles up to {@link #MAX_BACKOFF_NANOS}; the first poll
 * that answers again lifts the ban.
 */
final class BackendProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackendProbe.class);
    static final String POLL_SQL = "SELECT pg_is_in_recovery(),"
            + " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text,"
            + " pg_last_wal_receive_lsn()::text,"
            + " (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::bigint";
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final BackendNode node;
    private final HikariDataSource pool;
    private final long intervalNanos;
    /** The longest one poll can take: waiting for a connection (connect_timeout), then the query (query_timeout). */
    private final long longestPollNanos;
    private int failures;

    BackendProbe(BackendNode node, Monitor settings, io.pgbalancer.config.BackendTls tls) {
        this.node = node;
        this.intervalNanos = settings.interval().toNanos();
        this.longestPollNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(250, settings.connectTimeout().toMillis()))
                + TimeUnit.SECONDS.toNanos(Math.max(1, (settings.queryTimeout().toMillis() + 999) / 1000));
        HikariConfig c = new HikariConfig();
        c.setPoolName("pgbalancer-monitor-" + node.backend().address());
        c.setJdbcUrl("jdbc:postgresql://" + node.backend().address() + "/" + settings.database());
        c.setUsername(settings.user());
        c.setPassword(settings.password());
        c.setMinimumIdle(1);
        c.setMaximumPoolSize(2);
        c.setConnectionTimeout(Math.max(250, settings.connectTimeout().toMillis()));
        c.setValidationTimeout(Math.max(250, settings.queryTimeout().toMillis()));
        c.setInitializationFailTimeout(-1); // a backend that is down at startup is polled again later
        c.setAutoCommit(true);
        c.addDataSourceProperty("ApplicationName", "pgbalancer-monitor");
        // strings: pgjdbc 42.7.13+ reads properties with getProperty and silently ignores numbers, and without
        // socketTimeout a server that accepts and never answers held the monitor's connection attempt forever
        c.addDataSourceProperty("connectTimeout", String.valueOf(Math.max(1, settings.connectTimeout().toSeconds())));
        c.addDataSourceProperty("socketTimeout",
                String.valueOf(Math.max(1, (settings.queryTimeout().toMillis() + 999) / 1000)));
        c.addDataSourceProperty("prepareThreshold", "1");
        MonitorSslFactory.configure(tls, c::addDataSourceProperty);
        this.pool = new HikariDataSource(c);
    }

    BackendNode node() {
        return node;
    }

    /**
     * One poll; returns the delay before the next one at normal pace (the monitor shortens it while reads wait).
     *
     * @param primary the primary's history, which a primary's poll extends and a standby's poll reads
     */
    long poll(PrimaryHistory primary) {
        long started = System.nanoTime();
        try (Connection conn = pool.getConnection(); PreparedStatement st = conn.prepareStatement(POLL_SQL);
             ResultSet rs = st.executeQuery()) {
            rs.next();
            boolean inRecovery = rs.getBoolean(1);
            String lsnText = rs.getString(2);
            String receiveText = rs.getString(3);
            long replayMillis = rs.getLong(4);
            if (rs.wasNull()) {
                replayMillis = -1;
            }
            long now = System.nanoTime();
            long lsn = lsnText == null ? 0 : Lsn.parse(lsnText);
            long receive = receiveText == null ? 0 : Lsn.parse(receiveText);
            long lagBytes = 0;
            long lagNanos = 0;
            if (inRecovery) {
                lagBytes = Lsn.distance(primary.latest(), lsn);
                lagNanos = primary.lagNanos(lsn, now);
                if (lagNanos > 0 && replayMillis >= 0) {
                    // the missing writes came after the last transaction it replayed
                    lagNanos = Math.min(lagNanos,
                            TimeUnit.MILLISECONDS.toNanos(Math.max(0, System.currentTimeMillis() - replayMillis)));
                }
            } else {
                primary.add(lsn, started); // out of recovery: a primary's position
            }
            BackendStatus before = node.status();
            node.status(new BackendStatus(true, inRecovery, lsn, receive, replayMillis, lagBytes, lagNanos, now,
                    System.currentTimeMillis(), null));
            if (failures > 0) {
                log.info("{} answers the monitor again after {} failed polls: {}, at {}", node, failures,
                        inRecovery ? "in recovery" : "primary", Lsn.format(lsn));
                failures = 0;
                node.unban();
            } else {
                node.unbanIfBannedBefore(started); // a ban a client's dead connection set before this poll began
                if (before == BackendStatus.UNKNOWN) {
                    log.info("monitor: {} is {}, at {}", node, inRecovery ? "in recovery" : "primary",
                            Lsn.format(lsn));
                }
            }
            if (node.isPrimary() == inRecovery) {
                log.warn("{} is configured as {} but the server says it is {}", node,
                        node.isPrimary() ? "primary" : "replica", inRecovery ? "in recovery" : "not in recovery");
            }
            return intervalNanos;
        } catch (SQLException | RuntimeException e) {
            failures++;
            long backoff = Math.min(MAX_BACKOFF_NANOS, Math.min(intervalNanos, TimeUnit.MILLISECONDS.toNanos(250))
                    << Math.min(failures - 1, 16));
            String why = io.pgbalancer.net.RootCause.message(e);
            node.status(node.status().failed(why, System.nanoTime()));
            // Banned until the next poll has answered (which lifts the ban at once) or failed (which renews it): that
            // poll starts after the backoff and can take up to longestPollNanos. A ban of backoff + interval lapsed
            // while a server that never answers kept the next poll waiting, and reads went to it meanwhile.
            node.ban(backoff + longestPollNanos + intervalNanos);
            if (failures == 1 || Integer.bitCount(failures) == 1) {
                log.warn("{} does not answer the monitor ({} failed polls): {}; no reads for it until it does", node,
                        failures, why);
            }
            return backoff;
        }
    }


    @Override
    public void close() {
        pool.close();
    }
}

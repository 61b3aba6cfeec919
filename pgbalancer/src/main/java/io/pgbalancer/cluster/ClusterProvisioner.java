// purpose: SQL-level setup of a local cluster: roles with the right password hashes, databases, replication waits
package io.pgbalancer.cluster;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

final class ClusterProvisioner {
    private final Consumer<String> log;

    ClusterProvisioner(Consumer<String> log) {
        this.log = log;
    }

    /**
     * Creates (or, on a reused cluster, updates) the login roles and databases on the primary. md5 users get an
     * md5 hash (SET password_encryption='md5') so the server really challenges with MD5; the others get SCRAM.
     */
    void provision(PgServer primary, List<ServerConfig.UserSpec> users, List<String> databases) {
        if (users.isEmpty() && databases.isEmpty()) {
            return;
        }
        try (Connection c = PgJdbc.superuser(primary.port())) {
            for (ServerConfig.UserSpec u : users) {
                boolean exists = PgJdbc.queryString(c, "SELECT 1 FROM pg_roles WHERE rolname = " + PgJdbc.literal(u.name())) != null;
                String encryption = "md5".equals(u.hbaMethod()) ? "md5" : "scram-sha-256";
                PgJdbc.execute(c, "SET password_encryption = " + PgJdbc.literal(encryption));
                PgJdbc.execute(c, (exists ? "ALTER ROLE " : "CREATE ROLE ") + PgJdbc.ident(u.name())
                        + " WITH LOGIN PASSWORD " + PgJdbc.literal(u.password()));
                log.accept("primary: " + (exists ? "updated" : "created") + " role " + u.name() + " (" + u.hbaMethod() + ")");
            }
            PgJdbc.execute(c, "RESET password_encryption");
            String owner = users.isEmpty() ? PgJdbc.SUPERUSER : users.get(0).name();
            for (String db : databases) {
                if (PgJdbc.queryString(c, "SELECT 1 FROM pg_database WHERE datname = " + PgJdbc.literal(db)) == null) {
                    PgJdbc.execute(c, "CREATE DATABASE " + PgJdbc.ident(db) + " OWNER " + PgJdbc.ident(owner));
                    log.accept("primary: created database " + db + " owned by " + owner);
                }
            }
        } catch (SQLException e) {
            throw ClusterException.step("creating roles/databases on the primary failed: " + e.getMessage(), primary.logFile(), e);
        }
    }

    /** Waits until the replica is in recovery and the primary reports it as streaming. */
    void awaitStreaming(PgServer primary, PgServer replica, Duration timeout) {
        String[] state = {"not connected"};
        boolean ok = PgJdbc.await(timeout, Duration.ofMillis(100), () -> {
            try (Connection r = PgJdbc.superuser(replica.port())) {
                if (!"t".equals(PgJdbc.queryString(r, "SELECT pg_is_in_recovery()"))) {
                    throw ClusterException.step(replica.name() + " is not in recovery; it is not a standby", replica.logFile(), null);
                }
            } catch (SQLException e) {
                state[0] = "replica: " + e.getMessage();
                return false;
            }
            try (Connection p = PgJdbc.superuser(primary.port())) {
                String s = PgJdbc.queryString(p, "SELECT state FROM pg_stat_replication WHERE application_name = "
                        + PgJdbc.literal(replica.name()));
                state[0] = s == null ? "no pg_stat_replication row" : s;
                return "streaming".equals(s);
            } catch (SQLException e) {
                state[0] = "primary: " + e.getMessage();
                return false;
            }
        });
        if (!ok) {
            throw ClusterException.step(replica.name() + " did not reach streaming state within " + timeout.toSeconds()
                    + "s (last: " + state[0] + ")", replica.logFile(), null);
        }
        log.accept(replica.name() + ": streaming from " + primary.name());
    }

    /** Waits until every replica has replayed the primary's current WAL position. */
    void awaitReplay(PgServer primary, List<PgServer> replicas, Duration timeout) {
        if (replicas.isEmpty()) {
            return;
        }
        String lsn;
        try (Connection p = PgJdbc.superuser(primary.port())) {
            lsn = PgJdbc.queryString(p, "SELECT pg_current_wal_lsn()");
        } catch (SQLException e) {
            throw ClusterException.step("cannot read the primary's WAL position", primary.logFile(), e);
        }
        for (PgServer replica : replicas) {
            String[] last = {"?"};
            boolean ok = PgJdbc.await(timeout, Duration.ofMillis(50), () -> {
                try (Connection r = PgJdbc.superuser(replica.port())) {
                    last[0] = PgJdbc.queryString(r, "SELECT pg_last_wal_replay_lsn()");
                    return "t".equals(PgJdbc.queryString(r, "SELECT pg_last_wal_replay_lsn() >= " + PgJdbc.literal(lsn) + "::pg_lsn"));
                } catch (SQLException e) {
                    last[0] = e.getMessage();
                    return false;
                }
            });
            if (!ok) {
                throw ClusterException.step(replica.name() + " did not replay up to " + lsn + " within "
                        + timeout.toSeconds() + "s (at " + last[0] + ")", replica.logFile(), null);
            }
        }
        log.accept("replicas caught up with primary at " + lsn);
    }
}

// purpose: the postgresql.conf settings and pg_hba.conf lines every server of a local cluster gets
package io.pgbalancer.cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

final class ServerConfig {
    static final Set<String> HBA_METHODS = Set.of("scram-sha-256", "md5", "password", "trust");

    /** A login role created by the harness; password may be null for trust. */
    record UserSpec(String name, String password, String hbaMethod) {
        UserSpec {
            PgJdbc.checkName("user", name);
            if (PgJdbc.SUPERUSER.equals(name)) {
                throw new IllegalArgumentException("'postgres' is the harness superuser; pick another user name");
            }
            if (hbaMethod == null || !HBA_METHODS.contains(hbaMethod)) {
                throw new IllegalArgumentException("hbaMethod must be one of " + HBA_METHODS + ": " + hbaMethod);
            }
            if (password == null && !"trust".equals(hbaMethod)) {
                throw new IllegalArgumentException("user " + name + " needs a password for " + hbaMethod);
            }
        }
    }

    private static final Pattern SETTING_NAME = Pattern.compile("[a-z_][a-z0-9_.]*");

    private ServerConfig() {
    }

    /** A postgresql.conf parameter name the builder may set ("port" belongs to the harness). */
    static String checkSettingName(String key) {
        if (key == null || !SETTING_NAME.matcher(key).matches() || key.equals("port")) {
            throw new IllegalArgumentException("invalid or reserved setting name: " + key);
        }
        return key;
    }

    /** Settings for one server; {@code extra} (from the builder) wins over the defaults. */
    static Map<String, String> settings(int port, Map<String, String> extra) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("listen_addresses", PgJdbc.HOST);
        s.put("port", Integer.toString(port));
        s.put("unix_socket_directories", "");
        s.put("wal_level", "replica");
        s.put("max_wal_senders", "10");
        s.put("max_replication_slots", "10");
        s.put("hot_standby", "on");
        s.put("max_connections", "300");
        s.put("shared_buffers", "64MB");
        s.put("fsync", "off");
        s.put("synchronous_commit", "on"); // PostgreSQL's default: a commit's WAL is written at once, so replicas get it at once
        s.put("full_page_writes", "off");
        s.put("logging_collector", "off");
        s.put("wal_receiver_status_interval", "1s");
        s.putAll(extra);
        s.put("port", Integer.toString(port)); // the harness owns the port
        return s;
    }

    /** Standby settings: stream from the primary through a physical slot named like the replica. */
    static Map<String, String> standby(Map<String, String> base, int primaryPort, String replicaName) {
        Map<String, String> s = new LinkedHashMap<>(base);
        s.put("primary_conninfo", "host=" + PgJdbc.HOST + " port=" + primaryPort + " user=" + PgJdbc.SUPERUSER
                + " application_name=" + replicaName + " connect_timeout=5");
        s.put("primary_slot_name", slotName(replicaName));
        return s;
    }

    static String slotName(String replicaName) {
        return replicaName.toLowerCase().replaceAll("[^a-z0-9_]", "_");
    }

    static List<String> hba(List<UserSpec> users) {
        List<String> lines = new ArrayList<>();
        lines.add("# TYPE  DATABASE     USER      ADDRESS        METHOD");
        lines.add("host    all          postgres  127.0.0.1/32   trust");
        lines.add("host    replication  all       127.0.0.1/32   trust");
        for (UserSpec u : users) {
            lines.add("host    all          \"" + u.name() + "\"  127.0.0.1/32   " + u.hbaMethod());
        }
        lines.add("host    all          all       127.0.0.1/32   scram-sha-256");
        return lines;
    }
}

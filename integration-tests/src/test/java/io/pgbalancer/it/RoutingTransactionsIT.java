// purpose: a transaction runs whole on one backend: read-only ones on a replica, the rest on the primary, never split.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every statement reports the server and backend process that ran it ({@code inet_server_port()},
 * {@code pg_backend_pid()}); a transaction must show one of each throughout.
 */
class RoutingTransactionsIT {
    private static final String DB = "routing_transactions_it";
    private static final String POOL = "pool: {mode: transaction, size: 4, checkout_timeout: 10s}\n";
    private static final String WHERE = "SELECT inet_server_port(), pg_backend_pid()";

    /** The server (port) and backend process (pid) a statement ran on. */
    record Backend(int port, int pid) {
        boolean onPrimary() {
            return port == TestCluster.get().primaryPort();
        }

        boolean onReplica() {
            return TestCluster.get().replicaPorts().contains(port);
        }
    }

    @BeforeAll
    static void createDatabase() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database if exists " + DB + " with (force)");
            st.execute("create database " + DB + " owner app");
        }
        try (Connection c = DriverManager.getConnection(cl.jdbcUrl(cl.primaryPort(), DB), "app",
                TestCluster.APP_PASSWORD); Statement st = c.createStatement()) {
            st.execute("create table tx_log (id serial primary key, client int, txn int, note text)");
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
    }

    @Test
    void readOnlyJdbcTransactionsRunWholeOnOneReplicaAndReadWriteOnesOnThePrimary() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL); Connection c = connect(proxy);
             Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            c.setReadOnly(true); // pgjdbc: BEGIN READ ONLY
            Set<Integer> replicas = new HashSet<>();
            for (int t = 0; t < 9; t++) {
                List<Backend> seen = new ArrayList<>();
                seen.add(backend(st, WHERE + ", current_setting('transaction_read_only')"));
                seen.add(backend(st, WHERE + ", count(*) FROM tx_log"));
                seen.add(backend(st, WHERE + ", now()"));
                seen.add(backend(st, "WITH x AS (SELECT 1) " + WHERE + " FROM x"));
                c.commit();
                assertOneBackend(seen, "read-only transaction " + t);
                assertTrue(seen.get(0).onReplica(), "read-only transaction " + t + " ran on " + seen);
                replicas.add(seen.get(0).port());
            }
            assertTrue(replicas.size() >= 2, "each read-only transaction picks a replica: " + replicas);

            c.setReadOnly(false);
            for (int t = 0; t < 5; t++) {
                List<Backend> seen = new ArrayList<>();
                seen.add(backend(st, WHERE));
                seen.add(backend(st, "INSERT INTO tx_log (client, txn, note) VALUES (0, " + t + ", 'jdbc')"
                        + " RETURNING inet_server_port(), pg_backend_pid()"));
                seen.add(backend(st, WHERE + ", count(*) FROM tx_log"));
                c.commit();
                assertOneBackend(seen, "read-write transaction " + t);
                assertTrue(seen.get(0).onPrimary(), "read-write transaction " + t + " ran on " + seen);
            }
        }
    }

    @Test
    void beginReadOnlyBySimpleQueryRunsWholeOnOneReplica() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL);
             Connection c = connect(proxy, "preferQueryMode", "simple"); Statement st = c.createStatement()) {
            for (String begin : List.of("BEGIN READ ONLY", "START TRANSACTION READ ONLY",
                    "begin transaction isolation level repeatable read read only", "BEGIN READ ONLY")) {
                st.execute(begin);
                List<Backend> seen = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    seen.add(backend(st, WHERE + ", count(*) FROM tx_log"));
                }
                st.execute("COMMIT");
                assertOneBackend(seen, begin);
                assertTrue(seen.get(0).onReplica(), begin + " ran on " + seen);
            }
        }
    }

    @Test
    void readOnlySessionsSendReadsToReplicas() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            for (String mode : List.of("extended", "simple")) {
                try (Connection c = connect(proxy, "preferQueryMode", mode); Statement st = c.createStatement()) {
                    st.execute("SET default_transaction_read_only = on");
                    Set<Integer> ports = new HashSet<>();
                    for (int i = 0; i < 12; i++) {
                        Backend b = backend(st, WHERE + ", current_setting('default_transaction_read_only')");
                        assertTrue(b.onReplica(), mode + ": read in a read-only session ran on " + b);
                        ports.add(b.port());
                    }
                    assertTrue(ports.size() >= 2, mode + ": reads spread over the replicas: " + ports);
                    // a plain BEGIN in a read-only session is a read-only transaction: a replica, whole
                    c.setAutoCommit(false);
                    List<Backend> seen = List.of(backend(st, WHERE), backend(st, WHERE + ", count(*) FROM tx_log"));
                    c.commit();
                    c.setAutoCommit(true);
                    assertOneBackend(seen, mode + ": transaction in a read-only session");
                    assertTrue(seen.get(0).onReplica(), mode + ": " + seen);
                    // a write is refused, as it would be by the primary in a read-only session
                    SQLException e = assertThrows(SQLException.class, () -> st.executeQuery(
                            "INSERT INTO tx_log (client, note) VALUES (-1, 'read-only session') RETURNING id"));
                    assertEquals("25006", e.getSQLState(), mode + ": " + e);
                    st.execute("SET default_transaction_read_only = off");
                    Backend w = backend(st, "INSERT INTO tx_log (client, note) VALUES (-2, '" + mode + "')"
                            + " RETURNING inet_server_port(), pg_backend_pid()");
                    assertEquals(cl.primaryPort(), w.port(), mode + ": a write once the session is read-write");
                    assertTrue(backend(st, WHERE).onReplica(), mode + ": reads still go to replicas");
                }
            }
            // pgjdbc's readOnlyMode=always makes setReadOnly(true) a session setting even in autocommit
            try (Connection c = connect(proxy, "readOnlyMode", "always"); Statement st = c.createStatement()) {
                c.setReadOnly(true);
                for (int i = 0; i < 6; i++) {
                    Backend b = backend(st, WHERE);
                    assertTrue(b.onReplica(), "readOnlyMode=always, setReadOnly(true): " + b);
                }
                c.setReadOnly(false);
                Backend w = backend(st, "INSERT INTO tx_log (client, note) VALUES (-3, 'jdbc always')"
                        + " RETURNING inet_server_port(), pg_backend_pid()");
                assertEquals(cl.primaryPort(), w.port(), "setReadOnly(false) then a write");
            }
            // SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY is the same session setting
            try (Connection c = connect(proxy); Statement st = c.createStatement()) {
                st.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
                for (int i = 0; i < 6; i++) {
                    assertTrue(backend(st, WHERE).onReplica(), "after SET SESSION CHARACTERISTICS … READ ONLY");
                }
                st.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE");
                Backend w = backend(st, "INSERT INTO tx_log (client, note) VALUES (-4, 'characteristics')"
                        + " RETURNING inet_server_port(), pg_backend_pid()");
                assertEquals(cl.primaryPort(), w.port(), "after SET SESSION CHARACTERISTICS … READ WRITE");
            }
        }
        assertEquals(0, countOnPrimary("SELECT count(*) FROM tx_log WHERE client = -1"));
        assertEquals(4, countOnPrimary("SELECT count(*) FROM tx_log WHERE client IN (-2, -3, -4)"));
    }

    @Test
    void plainTransactionsRunWholeOnThePrimary() throws Exception {
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            try (Connection c = connect(proxy, "preferQueryMode", "simple"); Statement st = c.createStatement()) {
                for (String begin : List.of("BEGIN", "START TRANSACTION", "begin isolation level repeatable read")) {
                    st.execute(begin);
                    List<Backend> seen = new ArrayList<>();
                    seen.add(backend(st, WHERE));
                    seen.add(backend(st, WHERE + ", count(*) FROM tx_log"));
                    seen.add(backend(st, "INSERT INTO tx_log (client, note) VALUES (-5, '" + begin + "')"
                            + " RETURNING inet_server_port(), pg_backend_pid()"));
                    seen.add(backend(st, WHERE + ", count(*) FROM tx_log"));
                    st.execute("COMMIT");
                    assertOneBackend(seen, begin);
                    assertTrue(seen.get(0).onPrimary(), begin + " ran on " + seen);
                }
            }
            try (Connection c = connect(proxy); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                List<Backend> seen = new ArrayList<>();
                seen.add(backend(st, WHERE));
                seen.add(backend(st, "INSERT INTO tx_log (client, note) VALUES (-5, 'jdbc')"
                        + " RETURNING inet_server_port(), pg_backend_pid()"));
                seen.add(backend(st, WHERE));
                c.commit();
                assertOneBackend(seen, "pgjdbc autocommit=false");
                assertTrue(seen.get(0).onPrimary(), "" + seen);
            }
        }
        assertEquals(4, countOnPrimary("SELECT count(*) FROM tx_log WHERE client = -5"));
    }

    /**
     * A hot standby cannot run SERIALIZABLE transactions (0A000 "cannot use serializable mode in a hot standby"), so
     * a read-only transaction at that isolation level must not be sent to a replica; on the primary it just works.
     */
    @Test
    void serializableReadOnlyTransactionsSucceed() throws Exception {
        List<String> problems = new ArrayList<>();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            try (Connection c = connect(proxy, "preferQueryMode", "simple"); Statement st = c.createStatement()) {
                for (String begin : List.of("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
                        "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY",
                        "BEGIN READ ONLY ISOLATION LEVEL SERIALIZABLE, DEFERRABLE")) {
                    try {
                        st.execute(begin);
                        Backend b = backend(st, WHERE + ", current_setting('transaction_isolation')");
                        st.execute("COMMIT");
                        if (!b.onPrimary() && !b.onReplica()) {
                            problems.add(begin + ": ran on unknown port " + b);
                        }
                    } catch (SQLException e) {
                        problems.add(begin + ": " + e.getSQLState() + " " + e.getMessage());
                        st.execute("ROLLBACK");
                    }
                }
            }
            try (Connection c = connect(proxy); Statement st = c.createStatement()) {
                c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                c.setAutoCommit(false);
                c.setReadOnly(true);
                try {
                    backend(st, WHERE);
                    c.commit();
                } catch (SQLException e) {
                    problems.add("pgjdbc SERIALIZABLE + setReadOnly(true): " + e.getSQLState() + " " + e.getMessage());
                    c.rollback();
                }
            }
        }
        assertTrue(problems.isEmpty(), "serializable read-only transactions through the proxy: " + problems);
    }

    /**
     * Two clients, 50 transactions each, at random: read-only transactions of reads, and read-write transactions
     * that start with a read or a write and mix both, some rolled back. Every statement reports its backend; each
     * transaction must have exactly one, a replica for read-only ones and the primary for the rest, and the primary
     * must hold exactly the rows of the committed transactions.
     */
    @Test
    void transactionsAreNeverSplitAcrossBackends() throws Exception {
        int clients = 2;
        int transactions = 50;
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<int[]>> results = new ArrayList<>();
                for (int client = 1; client <= clients; client++) {
                    int me = client;
                    results.add(pool.submit(() -> mixedTransactions(proxy, me, transactions)));
                }
                int committedRows = 0;
                Set<Integer> replicas = new HashSet<>();
                for (Future<int[]> f : results) {
                    int[] r = f.get(90, TimeUnit.SECONDS);
                    committedRows += r[0];
                    for (int i = 1; i < r.length; i++) {
                        if (r[i] != 0) {
                            replicas.add(r[i]);
                        }
                    }
                }
                assertEquals(committedRows, countOnPrimary("SELECT count(*) FROM tx_log WHERE client > 0"),
                        "rows of committed transactions on the primary");
                assertTrue(replicas.size() >= 2, "read-only transactions used several replicas: " + replicas);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Returns {committed rows, replica ports used by read-only transactions…}. */
    private static int[] mixedTransactions(TestProxy proxy, int client, int transactions) throws Exception {
        Random rnd = new Random(4242 + client);
        int committedRows = 0;
        Set<Integer> replicas = new HashSet<>();
        try (Connection c = connect(proxy); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (int t = 0; t < transactions; t++) {
                boolean readOnly = rnd.nextInt(10) < 4;
                c.setReadOnly(readOnly);
                List<Backend> seen = new ArrayList<>();
                List<String> txids = new ArrayList<>();
                int rows = 0;
                int statements = 2 + rnd.nextInt(5);
                for (int s = 0; s < statements; s++) {
                    boolean write = !readOnly && (s == 0 ? rnd.nextBoolean() : rnd.nextInt(3) == 0);
                    if (write) {
                        try (ResultSet rs = st.executeQuery("INSERT INTO tx_log (client, txn, note) VALUES (" + client
                                + ", " + t + ", 'mixed') RETURNING inet_server_port(), pg_backend_pid(),"
                                + " txid_current()::text")) {
                            rs.next();
                            seen.add(new Backend(rs.getInt(1), rs.getInt(2)));
                            txids.add(rs.getString(3));
                        }
                        rows++;
                    } else {
                        try (ResultSet rs = st.executeQuery(WHERE + ", txid_current_if_assigned()::text,"
                                + " (SELECT count(*) FROM tx_log WHERE client = " + client + ")")) {
                            rs.next();
                            seen.add(new Backend(rs.getInt(1), rs.getInt(2)));
                            if (rs.getString(3) != null) {
                                txids.add(rs.getString(3));
                            }
                        }
                    }
                }
                boolean rollback = !readOnly && rnd.nextInt(10) == 0;
                if (rollback) {
                    c.rollback();
                } else {
                    c.commit();
                    committedRows += rows;
                }
                String what = "client " + client + " transaction " + t + (readOnly ? " (read-only)" : "")
                        + (rollback ? " (rolled back)" : "");
                assertOneBackend(seen, what);
                assertEquals(txids.isEmpty() ? 0 : 1, txids.stream().distinct().count(), what + ": txids " + txids);
                if (readOnly) {
                    assertTrue(seen.get(0).onReplica(), what + " ran on " + seen);
                    replicas.add(seen.get(0).port());
                } else {
                    assertTrue(seen.get(0).onPrimary(), what + " ran on " + seen);
                }
            }
        }
        int[] out = new int[1 + replicas.size()];
        out[0] = committedRows;
        int i = 1;
        for (int port : replicas) {
            out[i++] = port;
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void assertOneBackend(List<Backend> seen, String what) {
        assertEquals(1, new HashSet<>(seen).size(), what + " was split across backends: " + seen);
    }

    private static Backend backend(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            return new Backend(rs.getInt(1), rs.getInt(2));
        }
    }

    private static Connection connect(TestProxy proxy, String... keyValues) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    private static long countOnPrimary(String sql) throws SQLException {
        try (Connection c = TestCluster.directSuperuser(DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

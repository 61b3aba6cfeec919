// purpose: pgjdbc + HikariCP through pgbalancer (transaction pooling, pool size 4): prepared statements at every prepareThreshold, batches, transactions, timeouts, cursors and COPY.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JdbcIT {
    private static final int POOL_SIZE = 4;
    private static TestProxy proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        proxy = TestProxy.start(POOL_SIZE);
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("SET ROLE app");
            st.execute("DROP TABLE IF EXISTS jdbcit_batch, jdbcit_tx, jdbcit_copy");
            st.execute("CREATE TABLE jdbcit_batch (id int, label text, variant text)");
            st.execute("CREATE TABLE jdbcit_tx (id int primary key, note text)");
            st.execute("CREATE TABLE jdbcit_copy (id int, name text, amount numeric)");
        }
    }

    @AfterAll
    static void stopProxy() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("DROP TABLE IF EXISTS jdbcit_batch, jdbcit_tx, jdbcit_copy");
        }
    }

    private static HikariDataSource hikari(int maxPool, Map<String, String> props) {
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(proxy.jdbcUrl("app"));
        cfg.setUsername("app");
        cfg.setPassword(TestCluster.APP_PASSWORD);
        cfg.setMaximumPoolSize(maxPool);
        cfg.setMinimumIdle(0);
        cfg.setConnectionTimeout(10_000);
        cfg.setPoolName("jdbcit-" + props);
        props.forEach(cfg::addDataSourceProperty);
        return new HikariDataSource(cfg);
    }

    private static Connection direct() throws SQLException {
        return TestCluster.directSuperuser("app");
    }

    private static long count(String sql) throws SQLException {
        try (Connection c = direct(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * 8 Hikari connections share 4 backends; each runs the same parameterized query 20 times. With threshold 1
     * pgjdbc switches to a named statement (S_n) from the 2nd run, and that name must keep working on whichever
     * backend serves the next transaction.
     */
    @ParameterizedTest(name = "prepareThreshold={0}")
    @ValueSource(ints = {0, 1, 5})
    void sameQueryManyTimesOnManyConnections(int threshold) throws Exception {
        int clients = 8;
        int runs = 20;
        // (client, run) -> backend pid, to check that switches actually happened
        Map<Integer, List<Integer>> pidsByClient = new ConcurrentHashMap<>();
        AtomicInteger wrong = new AtomicInteger();
        try (HikariDataSource ds = hikari(clients, Map.of("prepareThreshold", Integer.toString(threshold)))) {
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            CyclicBarrier start = new CyclicBarrier(clients);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < clients; t++) {
                    int client = t;
                    futures.add(pool.submit(() -> {
                        try (Connection c = ds.getConnection();
                             PreparedStatement ps = c.prepareStatement(
                                     "select ?::int * 3, ?::text || '-' || ?::text, pg_backend_pid()")) {
                            List<Integer> pids = Collections.synchronizedList(new ArrayList<>());
                            pidsByClient.put(client, pids);
                            start.await(10, TimeUnit.SECONDS);
                            for (int run = 0; run < runs; run++) {
                                int v = client * 1000 + run;
                                ps.setInt(1, v);
                                ps.setString(2, "c" + client);
                                ps.setInt(3, v);
                                try (ResultSet rs = ps.executeQuery()) {
                                    assertTrue(rs.next());
                                    if (rs.getInt(1) != v * 3 || !("c" + client + "-" + v).equals(rs.getString(2))) {
                                        wrong.incrementAndGet();
                                    }
                                    pids.add(rs.getInt(3));
                                    assertFalse(rs.next());
                                }
                                if (run % 3 == client % 3) {
                                    Thread.sleep(1); // let others grab this connection's backend
                                }
                            }
                            if (threshold == 1) {
                                assertTrue(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare(),
                                        "pgjdbc should be using a named server statement by now");
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(45, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
        assertEquals(0, wrong.get(), "wrong answers");
        Set<Integer> allPids = new java.util.HashSet<>();
        int switched = 0;
        for (List<Integer> pids : pidsByClient.values()) {
            assertEquals(runs, pids.size());
            allPids.addAll(pids);
            // from the 3rd run on pgjdbc (threshold 1) only Binds S_n: count runs on a backend other than the 2nd's
            for (int i = 2; i < pids.size(); i++) {
                if (!pids.get(i).equals(pids.get(1))) {
                    switched++;
                }
            }
        }
        assertTrue(allPids.size() <= POOL_SIZE, "more backends than the pool size: " + allPids);
        assertTrue(switched > 0, "no client ever changed backend, the test did not exercise switching");
    }

    /**
     * Deterministic switch: the client's named statement is created on backend X, then X is held by another client
     * in a transaction so that the next execution must run on a backend that has never seen the statement.
     */
    @Test
    void namedStatementIsRecreatedOnAnotherBackend() throws Exception {
        try (Connection a = proxy.connect("prepareThreshold", "1");
             PreparedStatement ps = a.prepareStatement("select ?::int + 1, pg_backend_pid()")) {
            int pidX = -1;
            for (int i = 0; i < 3; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(i + 1, rs.getInt(1));
                    pidX = rs.getInt(2);
                }
            }
            // Hold backends in open transactions until one of the holders has X; then free the others.
            List<Connection> holders = new ArrayList<>();
            Connection holderOfX = null;
            try {
                for (int i = 0; i < POOL_SIZE && holderOfX == null; i++) {
                    Connection h = proxy.connect();
                    holders.add(h);
                    h.setAutoCommit(false);
                    try (Statement st = h.createStatement(); ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                        rs.next();
                        if (rs.getInt(1) == pidX) {
                            holderOfX = h;
                        }
                    }
                }
                assertNotNull(holderOfX, "backend " + pidX + " was not handed to any of " + POOL_SIZE + " clients");
                for (Connection h : holders) {
                    if (h != holderOfX) {
                        h.commit();
                    }
                }
                for (int i = 10; i < 15; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(i + 1, rs.getInt(1));
                        assertNotEquals(pidX, rs.getInt(2), "ran on the backend held by another client's transaction");
                    }
                }
                holderOfX.commit();
            } finally {
                for (Connection h : holders) {
                    h.close();
                }
            }
        }
    }

    @ParameterizedTest(name = "reWriteBatchedInserts={0}")
    @ValueSource(booleans = {false, true})
    void batchInsertThousandRows(boolean rewrite) throws Exception {
        String variant = "rewrite-" + rewrite;
        try (HikariDataSource ds = hikari(8, Map.of("reWriteBatchedInserts", Boolean.toString(rewrite)))) {
            // autocommit batch
            try (Connection c = ds.getConnection();
                 PreparedStatement ps = c.prepareStatement(
                         "insert into jdbcit_batch (id, label, variant) values (?, ?, ?)")) {
                for (int i = 0; i < 1000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row " + i);
                    ps.setString(3, variant + "-auto");
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                long total = 0;
                for (int n : counts) {
                    total += n == Statement.SUCCESS_NO_INFO ? 0 : n;
                }
                if (!rewrite) {
                    assertEquals(1000, counts.length);
                    assertEquals(1000, total);
                }
            }
            // batch inside an explicit transaction
            try (Connection c = ds.getConnection();
                 PreparedStatement ps = c.prepareStatement(
                         "insert into jdbcit_batch (id, label, variant) values (?, ?, ?)")) {
                c.setAutoCommit(false);
                for (int i = 0; i < 1000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row " + i);
                    ps.setString(3, variant + "-tx");
                    ps.addBatch();
                }
                ps.executeBatch();
                c.commit();
                c.setAutoCommit(true);
            }
            try (Connection c = ds.getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*), count(distinct id), sum(id), "
                         + "count(*) filter (where label = 'row ' || id) from jdbcit_batch where variant = '"
                         + variant + "-auto'")) {
                rs.next();
                assertEquals(1000, rs.getLong(1));
                assertEquals(1000, rs.getLong(2));
                assertEquals(999 * 1000 / 2, rs.getLong(3));
                assertEquals(1000, rs.getLong(4));
            }
        }
        assertEquals(1000, count("select count(*) from jdbcit_batch where variant = '" + variant + "-auto'"));
        assertEquals(1000, count("select count(*) from jdbcit_batch where variant = '" + variant + "-tx'"));
    }

    @Test
    void commitRollbackAndSavepoints() throws Exception {
        try (HikariDataSource ds = hikari(8, Map.of())) {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("insert into jdbcit_tx values (?, ?)")) {
                    ps.setInt(1, 1);
                    ps.setString(2, "committed");
                    ps.executeUpdate();
                    c.commit();

                    ps.setInt(1, 2);
                    ps.setString(2, "rolled back");
                    ps.executeUpdate();
                    ps.setInt(1, 3);
                    ps.setString(2, "rolled back too");
                    ps.executeUpdate();
                    c.rollback();

                    ps.setInt(1, 10);
                    ps.setString(2, "before savepoint");
                    ps.executeUpdate();
                    Savepoint sp = c.setSavepoint("sp1");
                    ps.setInt(1, 11);
                    ps.setString(2, "after savepoint");
                    ps.executeUpdate();
                    c.rollback(sp);
                    ps.setInt(1, 12);
                    ps.setString(2, "after rollback to savepoint");
                    ps.executeUpdate();
                    // an error inside the transaction, recovered by a savepoint
                    Savepoint sp2 = c.setSavepoint("sp2");
                    ps.setInt(1, 10);
                    ps.setString(2, "duplicate");
                    SQLException dup = assertThrows(SQLException.class, ps::executeUpdate);
                    assertEquals("23505", dup.getSQLState());
                    c.rollback(sp2);
                    ps.setInt(1, 13);
                    ps.setString(2, "after failed statement");
                    ps.executeUpdate();
                    // not yet visible to others
                    assertEquals(0, count("select count(*) from jdbcit_tx where id >= 10"));
                    c.commit();
                }
                c.setAutoCommit(true);
            }
        }
        try (Connection d = direct(); Statement st = d.createStatement();
             ResultSet rs = st.executeQuery("select id from jdbcit_tx order by id")) {
            List<Integer> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
            assertEquals(List.of(1, 10, 12, 13), ids);
        }
        assertEquals(0, count("select count(*) from pg_stat_activity where usename = 'app' "
                + "and state like 'idle in transaction%'"));
    }

    @Test
    void queryTimeoutCancelsOnlyThatQuery() throws Exception {
        try (HikariDataSource ds = hikari(8, Map.of())) {
            try (Connection c = ds.getConnection(); Connection other = ds.getConnection()) {
                ExecutorService bg = Executors.newSingleThreadExecutor();
                try {
                    Future<Integer> otherQuery = bg.submit(() -> {
                        try (Statement st = other.createStatement();
                             ResultSet rs = st.executeQuery("select 7 from pg_sleep(2)")) {
                            rs.next();
                            return rs.getInt(1);
                        }
                    });
                    try (Statement st = c.createStatement()) {
                        st.setQueryTimeout(1);
                        long t0 = System.nanoTime();
                        SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("select pg_sleep(10)"));
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        assertEquals("57014", e.getSQLState(), "expected query_canceled, got " + e);
                        assertTrue(ms >= 900 && ms < 4000, "timeout took " + ms + " ms");
                    }
                    // the same connection still works
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 41 + 1")) {
                        rs.next();
                        assertEquals(42, rs.getInt(1));
                    }
                    assertEquals(7, otherQuery.get(10, TimeUnit.SECONDS), "the other connection's query");
                    try (PreparedStatement ps = other.prepareStatement("select ?::int")) {
                        ps.setInt(1, 5);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertEquals(5, rs.getInt(1));
                        }
                    }
                } finally {
                    bg.shutdownNow();
                }
            }
        }
    }

    @Test
    void streamMillionRowsWithFetchSize() throws Exception {
        try (HikariDataSource ds = hikari(8, Map.of())) {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                long n = 0;
                long sum = 0;
                try (PreparedStatement ps = c.prepareStatement("select g from generate_series(1, ?) g")) {
                    ps.setFetchSize(1000);
                    ps.setInt(1, 1_000_000);
                    try (ResultSet rs = ps.executeQuery()) {
                        long expected = 1;
                        while (rs.next()) {
                            long v = rs.getLong(1);
                            if (v != expected) {
                                throw new AssertionError("row " + n + " was " + v + ", expected " + expected);
                            }
                            expected++;
                            n++;
                            sum += v;
                        }
                    }
                }
                // while the portal was suspended the transaction stayed on one backend; it still works
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
                    rs.next();
                    assertEquals(1, rs.getInt(1));
                }
                c.commit();
                c.setAutoCommit(true);
                assertEquals(1_000_000L, n);
                assertEquals(1_000_000L * 1_000_001L / 2, sum);
            }
        }
    }

    private static String copyData(int rows) {
        StringBuilder data = new StringBuilder(rows * 24);
        for (int i = 0; i < rows; i++) {
            data.append(i).append('\t').append("name-").append(i).append('\t').append(i % 1000).append(".5\n");
        }
        return data.toString();
    }

    @Test
    void copyInHundredThousandRows() throws Exception {
        int rows = 100_000;
        String data = copyData(rows);
        try (HikariDataSource ds = hikari(8, Map.of())) {
            try (Connection c = ds.getConnection()) {
                CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
                long copied = cm.copyIn("COPY jdbcit_copy (id, name, amount) FROM STDIN", new StringReader(data));
                assertEquals(rows, copied);
                // the connection is usable right after COPY
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("select count(*), sum(id), sum(amount), "
                             + "count(*) filter (where name = 'name-' || id) from jdbcit_copy")) {
                    rs.next();
                    assertEquals(rows, rs.getLong(1));
                    assertEquals((long) rows * (rows - 1) / 2, rs.getLong(2));
                    // sum of (i % 1000) + 0.5 over 100 full cycles of 0..999
                    assertEquals(0, new java.math.BigDecimal("50000000").compareTo(rs.getBigDecimal(3)),
                            "sum(amount) " + rs.getBigDecimal(3));
                    assertEquals(rows, rs.getLong(4));
                }
                // a failed COPY FROM (bad data) reports the error and leaves the connection usable
                PSQLException e = assertThrows(PSQLException.class, () -> cm.copyIn(
                        "COPY jdbcit_copy (id, name, amount) FROM STDIN", new StringReader("1\tx\tnot-a-number\n")));
                assertEquals("22P02", e.getSQLState());
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("select count(*) from jdbcit_copy")) {
                    rs.next();
                    assertEquals(rows, rs.getLong(1));
                }
            }
        }
        assertEquals(rows, count("select count(*) from jdbcit_copy"));
    }

    @Test
    void copyOutHundredThousandRows() throws Exception {
        int rows = 100_000;
        try (HikariDataSource ds = hikari(8, Map.of())) {
            try (Connection c = ds.getConnection()) {
                CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long copied = cm.copyOut("COPY (select g, 'name-' || g, (g % 1000) + 0.5 "
                        + "from generate_series(0, " + (rows - 1) + ") g) TO STDOUT", out);
                assertEquals(rows, copied);
                assertEquals(copyData(rows), out.toString(StandardCharsets.UTF_8));
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 'after copy'")) {
                    rs.next();
                    assertEquals("after copy", rs.getString(1));
                }
            }
        }
    }
}

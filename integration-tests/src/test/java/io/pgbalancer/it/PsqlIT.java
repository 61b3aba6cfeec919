// purpose: psql runs scripted sessions through pgbalancer: DDL, savepoints, \copy in/out, \gset, SET/SHOW, errors.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PsqlIT {
    private static final int COPY_ROWS = 10_000;

    private static Path psql;

    @TempDir
    Path dir;

    @BeforeAll
    static void findPsql() {
        Optional<Path> found = TestCluster.get().binaries().find("psql");
        assumeTrue(found.isPresent(), "psql is not available with these PostgreSQL binaries");
        psql = found.get();
    }

    @Test
    void scriptedSessionWithSavepointCopyGsetAndSettings() throws Exception {
        Path in = dir.resolve("in.csv");
        Path out = dir.resolve("out.csv");
        StringBuilder csv = new StringBuilder();
        long expectedSum = 0;
        for (int i = 1; i <= COPY_ROWS; i++) {
            // a quoted field with a comma and a doubled quote checks that CSV survives the COPY sub-protocol intact
            csv.append(i).append(",\"label ").append(i).append(", \"\"q\"\"\",").append(i * 3).append('\n');
            expectedSum += i * 3L;
        }
        Files.writeString(in, csv, StandardCharsets.UTF_8);
        String script = String.join("\n",
                "drop table if exists psql_it_items, psql_it_copy;",
                "create table psql_it_items (id int primary key, name text not null);",
                "insert into psql_it_items values (1, 'one'), (2, 'two');",
                "begin;",
                "insert into psql_it_items values (3, 'three');",
                "savepoint before_four;",
                "insert into psql_it_items values (4, 'four');",
                "rollback to savepoint before_four;",
                "insert into psql_it_items values (5, 'five');",
                "commit;",
                "create table psql_it_copy (id int primary key, label text, n int);",
                "\\copy psql_it_copy from '" + in + "' csv",
                "select count(*) as copied, sum(n) as total from psql_it_copy \\gset",
                "\\echo copied=:copied total=:total",
                "select :copied + 1 as plus_one;",
                "select label from psql_it_copy where id = :copied;",
                "\\copy (select id, name from psql_it_items order by id) to '" + out + "' csv",
                "set statement_timeout = '42s';",
                "set application_name = 'psql-it';",
                "select 'separate statement';",
                "show statement_timeout;",
                "show application_name;",
                "select current_setting('statement_timeout'), current_setting('application_name');",
                "");
        try (TestProxy proxy = TestProxy.start(2)) {
            Churn churn = new Churn(proxy);
            Result r;
            try {
                r = runPsql(proxy, script, true);
            } finally {
                churn.close();
            }
            assertEquals(0, r.exit, r.describe());
            List<String> expected = List.of(
                    "CREATE TABLE",
                    "INSERT 0 2",
                    "BEGIN",
                    "INSERT 0 1",
                    "SAVEPOINT",
                    "INSERT 0 1",
                    "ROLLBACK",
                    "INSERT 0 1",
                    "COMMIT",
                    "CREATE TABLE",
                    "COPY " + COPY_ROWS,
                    "copied=" + COPY_ROWS + " total=" + expectedSum,
                    String.valueOf(COPY_ROWS + 1),
                    "label " + COPY_ROWS + ", \"q\"",
                    "COPY 4",
                    "SET",
                    "SET",
                    "separate statement",
                    "42s",
                    "psql-it",
                    "42s|psql-it");
            assertEquals(expected, r.stdoutLines().subList(1, r.stdoutLines().size()), r.describe());
            assertTrue(r.stdoutLines().get(0).equals("DROP TABLE"), r.describe());
            assertTrue(churn.queries() > 0, "the background client ran no queries");
            assertEquals(0, churn.failures(), "the background client saw failures");
        }
        assertEquals("1,one\n2,two\n3,three\n5,five\n", Files.readString(out));
        try (Connection c = TestCluster.directSuperuser("app"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("select count(*), sum(n), count(distinct label) from psql_it_copy");
            rs.next();
            assertEquals(COPY_ROWS, rs.getInt(1));
            assertEquals(expectedSum, rs.getLong(2));
            assertEquals(COPY_ROWS, rs.getInt(3));
            rs = st.executeQuery("select string_agg(id::text, ',' order by id) from psql_it_items");
            rs.next();
            assertEquals("1,2,3,5", rs.getString(1), "the savepoint rollback must have undone row 4 only");
        }
    }

    @Test
    void errorsWithoutOnErrorStopDoNotKillTheSession() throws Exception {
        String script = String.join("\n",
                "drop table if exists psql_it_errors;",
                "create table psql_it_errors (id int primary key);",
                "select 'before' as marker;",
                "select * from psql_it_missing_table;",
                "select 1/0;",
                "begin;",
                "insert into psql_it_errors values (100);",
                "select 1/0;",
                "select 'ignored in aborted transaction';",
                "rollback;",
                "set statement_timeout = '7s';",
                "select * from psql_it_errors where id = 'x';",
                "insert into psql_it_errors values (1);",
                "insert into psql_it_errors values (1);",
                "show statement_timeout;",
                "select 'after', count(*), pg_backend_pid() > 0 from psql_it_errors;",
                "");
        try (TestProxy proxy = TestProxy.start(2)) {
            Result r = runPsql(proxy, script, false);
            assertEquals(0, r.exit, r.describe());
            List<String> lines = r.stdoutLines();
            assertTrue(lines.contains("before"), r.describe());
            assertTrue(lines.contains("7s"), "SET after errors must still apply: " + r.describe());
            assertEquals("after|1|t", lines.get(lines.size() - 1), r.describe());
            assertTrue(lines.contains("ROLLBACK"), r.describe());
            assertFalse(lines.contains("ignored in aborted transaction"), r.describe());
            assertTrue(r.stderr.contains("relation \"psql_it_missing_table\" does not exist"), r.describe());
            assertEquals(2, count(r.stderr, "division by zero"), r.describe());
            assertTrue(r.stderr.contains("current transaction is aborted"), r.describe());
            assertTrue(r.stderr.contains("invalid input syntax for type integer"), r.describe());
            assertTrue(r.stderr.contains("duplicate key value violates unique constraint"), r.describe());
            assertFalse(r.stderr.contains("FATAL"), r.describe());
            assertFalse(r.stderr.contains("connection to server was lost"), r.describe());
            assertFalse(r.stderr.contains("server closed the connection"), r.describe());
        }
        try (Connection c = TestCluster.directSuperuser("app"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("select string_agg(id::text, ',') from psql_it_errors");
            rs.next();
            assertEquals("1", rs.getString(1), "the rolled-back row 100 must not exist");
        }
    }

    @Test
    void onErrorStopEndsTheScriptWithExitCode3() throws Exception {
        String script = String.join("\n",
                "drop table if exists psql_it_stop;",
                "create table psql_it_stop (x int);",
                "insert into psql_it_stop values (1);",
                "select 1/0;",
                "insert into psql_it_stop values (2);",
                "");
        try (TestProxy proxy = TestProxy.start(2)) {
            Result r = runPsql(proxy, script, true);
            assertEquals(3, r.exit, r.describe());
            assertTrue(r.stderr.contains("division by zero"), r.describe());
        }
        try (Connection c = TestCluster.directSuperuser("app"); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("select string_agg(x::text, ',') from psql_it_stop");
            rs.next();
            assertEquals("1", rs.getString(1), "psql must stop at the error");
        }
    }

    private Result runPsql(TestProxy proxy, String script, boolean onErrorStop) throws Exception {
        Path file = Files.createTempFile(dir, "script", ".sql");
        Files.writeString(file, script);
        List<String> cmd = List.of(psql.toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=" + (onErrorStop ? 1 : 0),
                "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "-U", "app", "-d", "app",
                "-f", file.toString());
        return run(cmd, Map.of("PGPASSWORD", TestCluster.APP_PASSWORD), dir, 120);
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }

    record Result(int exit, String stdout, String stderr) {
        List<String> stdoutLines() {
            List<String> lines = new ArrayList<>(stdout.lines().toList());
            lines.removeIf(String::isEmpty);
            return lines;
        }

        String describe() {
            return "exit " + exit + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    static Result run(List<String> cmd, Map<String, String> env, Path workDir, int timeoutSeconds)
            throws IOException, InterruptedException {
        Path stdout = Files.createTempFile(workDir, "out", ".txt");
        Path stderr = Files.createTempFile(workDir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + cmd + "\n--- stdout ---\n"
                    + Files.readString(stdout) + "\n--- stderr ---\n" + Files.readString(stderr));
        }
        return new Result(p.exitValue(), Files.readString(stdout), Files.readString(stderr));
    }

    /** Another client running short transactions meanwhile, so psql's statements need not land on one backend. */
    private static final class Churn implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicInteger queries = new AtomicInteger();
        private final AtomicInteger failures = new AtomicInteger();
        private final Thread thread;

        Churn(TestProxy proxy) {
            thread = new Thread(() -> {
                try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                    while (!stop.get()) {
                        st.execute("select pg_sleep(0.002)");
                        queries.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                    e.printStackTrace();
                }
            }, "psql-it-churn");
            thread.start();
        }

        int queries() {
            return queries.get();
        }

        int failures() {
            return failures.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }
}

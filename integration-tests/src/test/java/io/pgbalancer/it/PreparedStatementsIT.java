// purpose: named prepared statements through pgbalancer behave as direct: 42P05 for a duplicate Parse (raw protocol, compared with the server itself) and correct results with few statements kept per backend.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PreparedStatementsIT {
    private static final String POOL = "pool: {mode: transaction, size: 2, checkout_timeout: 5s, max_prepared_statements: 3}\n";
    /** Clients log in without a password; pgbalancer logs in to the servers as each user (trustuser is trust). */
    private static final String TRUST = String.join("\n",
            "auth:",
            "  method: trust",
            "  users:",
            "    - {name: app, password: \"${APP_PASSWORD}\"}",
            "    - {name: trustuser}",
            "");

    @BeforeAll
    static void tables() throws SQLException {
        try (Connection su = TestCluster.directSuperuser("app"); Statement st = su.createStatement()) {
            st.execute("DROP TABLE IF EXISTS stmtsit_rollback");
            st.execute("CREATE TABLE stmtsit_rollback (x int)");
            st.execute("GRANT ALL ON stmtsit_rollback TO PUBLIC");
        }
    }

    // ---------------------------------------------------------------- 42P05, message for message as direct

    /**
     * One script of raw protocol messages, run directly against the primary and through pgbalancer (whose reads
     * go to replicas): every answer must be the same, including the duplicate-statement errors, what they abort,
     * and what the server skips after them.
     */
    @Test
    void duplicateParseAnswersExactlyAsDirect() throws Exception {
        List<String> direct;
        try (BadInputIT.RawPg raw = BadInputIT.RawPg.loggedIn(TestCluster.get().primaryPort(), "trustuser")) {
            direct = script(raw);
        }
        List<String> proxied;
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL + TRUST);
             BadInputIT.RawPg raw = BadInputIT.RawPg.loggedIn(proxy.port(), "trustuser")) {
            proxied = script(raw);
            // the client names pgbalancer created on a server for a moment are gone, and the limit holds
            for (int i = 0; i < 6; i++) {
                assertEquals("0", raw.simpleQueryValue("SELECT count(*) FROM pg_prepared_statements"
                        + " WHERE name NOT LIKE 'pgbalancer\\_%'"), "client-chosen names left on a server");
            }
        }
        System.out.println("direct and through pgbalancer:\n" + String.join("\n", direct));
        assertEquals(String.join("\n", direct), String.join("\n", proxied));
        assertTrue(direct.stream().anyMatch(a -> a.contains("42P05 prepared statement \"s1\" already exists")),
                direct.toString());
    }

    /** Runs the script on {@code raw}; returns every answer, one per line, numbered by step. */
    private static List<String> script(BadInputIT.RawPg raw) throws IOException {
        List<String> out = new ArrayList<>();
        raw.simpleQueryValue("TRUNCATE stmtsit_rollback");
        step(out, raw, "1 define s1", 1, parse("s1", "SELECT 1"), sync());
        step(out, raw, "2 duplicate", 1, parse("s1", "SELECT 2"), bind("s1"), execute(), sync());
        step(out, raw, "3 s1 is still the first", 1, bind("s1"), execute(), sync());
        step(out, raw, "4 duplicate in a transaction aborts it", 2, query("BEGIN"), parse("s1", "SELECT 3"),
                sync());
        step(out, raw, "5 in the aborted transaction the abort comes first", 1, parse("s1", "SELECT 4"), sync());
        step(out, raw, "6 rollback", 1, query("ROLLBACK"));
        step(out, raw, "7 a syntax error comes before the duplicate", 1, parse("s1", "SELEC 5"), sync());
        step(out, raw, "8 the duplicate rolls back the implicit transaction", 1,
                parse("", "INSERT INTO stmtsit_rollback VALUES (1)"), bind(""), execute(),
                parse("s1", "SELECT 6"), sync());
        step(out, raw, "9 nothing was inserted", 1, query("SELECT count(*) FROM stmtsit_rollback"));
        step(out, raw, "10 after an earlier error the duplicate is skipped", 1, parse("", "SELEC"),
                parse("s1", "SELECT 7"), sync());
        step(out, raw, "11 a Close skipped after an error leaves s1", 1, parse("", "SELEC"), close("s1"), sync());
        step(out, raw, "12 so this is a duplicate", 1, parse("s1", "SELECT 8"), sync());
        step(out, raw, "13 close and define again", 1, close("s1"), parse("s1", "SELECT 9"), bind("s1"),
                execute(), sync());
        step(out, raw, "14 pipelined: the first fails, so the second is no duplicate", 2, parse("s2", "SELEC"),
                sync(), parse("s2", "SELECT 10"), bind("s2"), execute(), sync());
        step(out, raw, "15 the unnamed statement is re-parsed freely", 1, parse("", "SELECT 11"),
                parse("", "SELECT 12"), bind(""), execute(), sync());
        step(out, raw, "16 flush shows the error before Sync", 0, parse("s2", "SELECT 13"), flush());
        step(out, raw, "17 then Sync", 1, bind("s2"), execute(), sync());
        return out;
    }

    /** Sends {@code messages} at once and reads the answers up to the {@code readyForQuery}-th ReadyForQuery. */
    private static void step(List<String> out, BadInputIT.RawPg raw, String name, int readyForQuery,
                             byte[]... messages) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] m : messages) {
            all.writeBytes(m);
        }
        raw.sendRaw(all.toByteArray());
        if (readyForQuery == 0) {
            // a Flush: exactly one answer is due (here the error); nothing else may come before the next Sync
            out.add(name + ": " + describe(raw.expect('E')));
            return;
        }
        int seen = 0;
        while (seen < readyForQuery) {
            BadInputIT.RawPg.Msg m = raw.readOrEof();
            if (m == null) {
                throw new AssertionError("connection closed in step " + name + " after " + out);
            }
            if (m.type() == 'N' || m.type() == 'S') {
                continue; // notices and parameter reports are not part of the comparison
            }
            out.add(name + ": " + describe(m));
            if (m.type() == 'Z') {
                seen++;
            }
        }
    }

    private static String describe(BadInputIT.RawPg.Msg m) {
        return switch (m.type()) {
            case 'E' -> {
                Map<Character, String> f = m.fields();
                yield "E " + f.get('S') + " " + f.get('V') + " " + f.get('C') + " " + f.get('M');
            }
            case 'Z' -> "Z " + (char) m.body()[0];
            case 'C' -> "C " + m.cstring(0);
            case 'D' -> "D " + new String(m.body(), 6, m.int32(2), StandardCharsets.UTF_8);
            default -> String.valueOf(m.type());
        };
    }

    // ---- messages

    private static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    private static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(b.length + 1).put(b).put((byte) 0).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] parse(String name, String sql) {
        return message('P', concat(cstring(name), cstring(sql), new byte[] {0, 0}));
    }

    static byte[] bind(String statement) {
        return message('B', concat(cstring(""), cstring(statement), new byte[] {0, 0, 0, 0, 0, 0}));
    }

    static byte[] execute() {
        return message('E', concat(cstring(""), new byte[] {0, 0, 0, 0}));
    }

    static byte[] close(String statement) {
        return message('C', concat(new byte[] {'S'}, cstring(statement)));
    }

    static byte[] sync() {
        return message('S', new byte[0]);
    }

    static byte[] flush() {
        return message('H', new byte[0]);
    }

    static byte[] query(String sql) {
        return message('Q', cstring(sql));
    }

    // ---------------------------------------------------------------- bounded statements, correct results

    /**
     * pgjdbc prepares every statement on first use (prepareThreshold 1): 6 connections run 20 distinct statements
     * over and over, alone and inside transactions, while each backend keeps at most 3 of them. Every result must be
     * right, and every backend must hold at most 3 statements when a transaction starts on it.
     */
    @Test
    void manyStatementsThroughFewPerBackendStayCorrect() throws Exception {
        int clients = 6;
        int statements = 20;
        int rounds = 15;
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int client = c;
                    done.add(pool.submit(() -> {
                        int checked = 0;
                        try (Connection conn = proxy.connect("prepareThreshold", "1")) {
                            List<PreparedStatement> ps = new ArrayList<>();
                            for (int k = 0; k < statements; k++) {
                                ps.add(conn.prepareStatement("SELECT ?::int * " + (k + 1) + " + " + k
                                        + " AS stmtsit_" + k));
                            }
                            for (int r = 0; r < rounds; r++) {
                                boolean tx = (r + client) % 3 == 0;
                                conn.setAutoCommit(!tx);
                                for (int i = 0; i < statements; i++) {
                                    int k = (i * 7 + r + client) % statements;
                                    int arg = client * 1000 + r * 10 + i;
                                    ps.get(k).setInt(1, arg);
                                    try (ResultSet rs = ps.get(k).executeQuery()) {
                                        assertTrue(rs.next());
                                        assertEquals(arg * (k + 1) + k, rs.getInt(1),
                                                "statement " + k + " of client " + client + " in round " + r);
                                        checked++;
                                    }
                                }
                                if (tx) {
                                    conn.commit();
                                }
                            }
                            conn.setAutoCommit(true);
                            for (PreparedStatement p : ps) {
                                p.close();
                            }
                        }
                        return checked;
                    }));
                }
                int checked = 0;
                for (Future<Integer> f : done) {
                    checked += f.get(100, TimeUnit.SECONDS);
                }
                assertEquals(clients * statements * rounds, checked);
            } finally {
                pool.shutdownNow();
            }
            // pg_prepared_statements is per server session; asked through pgbalancer, it shows the backend that
            // runs the query, right after that backend was trimmed for the new transaction
            try (Connection conn = proxy.connect("preferQueryMode", "simple"); Statement st = conn.createStatement()) {
                for (int i = 0; i < 12; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE name LIKE 'pgbalancer\\_%'),"
                            + " count(*) FROM pg_prepared_statements")) {
                        assertTrue(rs.next());
                        assertTrue(rs.getInt(1) <= 3, rs.getInt(1) + " statements kept on one backend, limit 3");
                        assertEquals(rs.getInt(1), rs.getInt(2), "only pgbalancer's names on a server");
                    }
                }
            }
        }
    }
}

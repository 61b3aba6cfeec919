// purpose: test helper for FaultMatrixIT: raw-socket clients that vanish mid-transaction, mid-pipeline or mid-frame,
// and the check that the pool hands out only clean backends afterwards.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pgbalancer.it.BadInputIT.RawPg;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

/** Each client logs in (trust) as app, does its part, then closes its socket without a Terminate. */
final class RawClients {
    private RawClients() {
    }

    private static String insert(String tag, int n) {
        return "INSERT INTO " + MixedLoad.TABLE + " (tag, n, payload, md5) VALUES ('" + tag + "', " + n
                + ", 'x', md5('x'))";
    }

    /** BEGIN and an INSERT in one Query, answered with ReadyForQuery 'T'; then the socket closes. */
    static void dropInTransaction(int port, String tag, int n) throws IOException {
        try (RawPg raw = RawPg.loggedIn(port, "app")) {
            beginAndInsert(raw, tag, n);
        }
    }

    /**
     * Parse/Bind/Execute of an INSERT, no Sync; with {@code flush} a Flush too, and the answers up to CommandComplete
     * are read (the INSERT has run in the backend's implicit transaction). Then the socket closes.
     */
    static void dropMidPipeline(int port, String tag, int n, boolean flush) throws IOException {
        try (RawPg raw = RawPg.loggedIn(port, "app")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(WireScript.Frontend.parse("", insert(tag, n)).bytes());
            out.writeBytes(WireScript.Frontend.bind("", "").bytes());
            out.writeBytes(WireScript.Frontend.execute("", 0).bytes());
            if (flush) {
                out.writeBytes(WireScript.Frontend.flush().bytes());
            }
            raw.sendRaw(out.toByteArray());
            if (flush) {
                raw.expect('1');
                raw.expect('2');
                raw.expect('C');
            }
        }
    }

    /** BEGIN + INSERT, then a Query message's header and 20 of its 100 bytes; then the socket closes. */
    static void partialQueryInTransaction(int port, String tag, int n) throws IOException {
        try (RawPg raw = RawPg.loggedIn(port, "app")) {
            beginAndInsert(raw, tag, n);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(BadInputIT.typedHeader('Q', 4 + 100));
            out.writeBytes("COMMIT; SELECT 'half".getBytes(StandardCharsets.US_ASCII));
            raw.sendRaw(out.toByteArray());
        }
    }

    /** Parse/Bind/Execute of an INSERT, then 3 of the 5 bytes of a Sync; then the socket closes. */
    static void partialSyncAfterPipeline(int port, String tag, int n) throws IOException {
        try (RawPg raw = RawPg.loggedIn(port, "app")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(WireScript.Frontend.parse("", insert(tag, n)).bytes());
            out.writeBytes(WireScript.Frontend.bind("", "").bytes());
            out.writeBytes(WireScript.Frontend.execute("", 0).bytes());
            byte[] sync = WireScript.Frontend.sync().bytes();
            out.write(sync, 0, 3);
            raw.sendRaw(out.toByteArray());
        }
    }

    private static void beginAndInsert(RawPg raw, String tag, int n) throws IOException {
        raw.send('Q', BadInputIT.cstrings("BEGIN; " + insert(tag, n)));
        while (true) {
            RawPg.Msg m = raw.readOrEof();
            assertNotNull(m, "connection closed during BEGIN + INSERT");
            if (m.type() == 'E') {
                throw new AssertionError("BEGIN + INSERT failed: " + m.describe());
            }
            if (m.type() == 'Z') {
                assertEquals('T', (char) m.body()[0], "in a transaction after BEGIN + INSERT");
                return;
            }
        }
    }

    /**
     * {@code transactions} transactions on the primary through a new pgjdbc connection each start outside any
     * transaction and see none of the rows tagged {@code like}: no dropped client's transaction lives on in a pooled
     * backend. Returns how many distinct backends served them.
     */
    static int assertPoolClean(TestProxy proxy, String like, int transactions) throws Exception {
        Set<Integer> pids = new HashSet<>();
        try (Connection c = proxy.connect("ApplicationName", "fm-clean-check"); Statement st = c.createStatement()) {
            for (int i = 0; i < transactions; i++) {
                try (ResultSet rs = st.executeQuery("/* pgbalancer: primary */ SELECT txid_current_if_assigned(),"
                        + " (SELECT count(*) FROM " + MixedLoad.TABLE + " WHERE tag LIKE '" + like + "'),"
                        + " pg_backend_pid(), " + i)) {
                    rs.next();
                    assertNull(rs.getObject(1), "transaction " + i + " began inside another client's transaction");
                    assertEquals(0, rs.getLong(2), "transaction " + i + " sees rows of a dropped client");
                    assertEquals(i, rs.getInt(4));
                    pids.add(rs.getInt(3));
                }
            }
        }
        return pids.size();
    }
}

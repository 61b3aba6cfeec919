// purpose: PreparedStatements shares one backend name per statement body across clients while client names stay private
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PreparedStatementsTest {
    private static final io.pgbalancer.sql.StatementClassifier CLASSIFIER =
            new io.pgbalancer.sql.StatementClassifier(java.util.Set.of(), 0);
    private static final io.pgbalancer.sql.Classification C1 = CLASSIFIER.classify("SELECT 1");
    private static final io.pgbalancer.sql.Classification C2 = CLASSIFIER.classify("INSERT INTO t VALUES (1)");

    /** A Parse body: query text, NUL, parameter count and OIDs; made unique per test run with a marker. */
    private static byte[] body(String sql, int... oids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(sql.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.write(oids.length >>> 8);
        out.write(oids.length);
        for (int oid : oids) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(oid).array());
        }
        return out.toByteArray();
    }

    /** Statement text no other test (or earlier run in this JVM) used, since the name map is process-wide. */
    private static String unique(String sql) {
        return sql + " /* " + UUID.randomUUID() + " */";
    }

    @Test
    void identicalBodiesShareABackendNameAcrossClients() {
        String sql = unique("SELECT $1");
        PreparedStatements client1 = new PreparedStatements();
        PreparedStatements client2 = new PreparedStatements();
        PreparedStatements.Statement a = client1.define("s1", body(sql, 23), C1);
        PreparedStatements.Statement b = client2.define("other_name", body(sql, 23), C2);
        assertEquals(a.backendName(), b.backendName());
        assertTrue(a.backendName().startsWith("pgbalancer_"), a.backendName());
        assertEquals(a.body(), b.body());
        assertSame(C1, a.classification());
        assertSame(C2, b.classification());
    }

    @Test
    void differentBodiesGetDifferentNames() {
        String sql = unique("SELECT $1");
        PreparedStatements c = new PreparedStatements();
        Set<String> names = new HashSet<>();
        names.add(c.define("a", body(sql, 23), null).backendName());
        names.add(c.define("b", body(sql, 25), null).backendName()); // same text, other parameter type
        names.add(c.define("c", body(sql), null).backendName()); // no parameter types
        names.add(c.define("d", body(sql + " ", 23), null).backendName());
        names.add(c.define("e", body(unique("SELECT 1")), null).backendName());
        assertEquals(5, names.size(), names.toString());
    }

    @Test
    void getContainsRemove() {
        String sql = unique("SELECT 2");
        PreparedStatements c = new PreparedStatements();
        assertNull(c.get("s1"));
        assertFalse(c.contains("s1"));
        c.remove("s1"); // nothing to remove: fine
        PreparedStatements.Statement s = c.define("s1", body(sql), C1);
        assertTrue(c.contains("s1"));
        assertSame(s, c.get("s1"));
        assertFalse(c.contains("s2"));
        c.remove("s1");
        assertFalse(c.contains("s1"));
        assertNull(c.get("s1"));
    }

    @Test
    void clientNamesAreReusableAfterClose() {
        int limit = PreparedStatements.idleNameLimit;
        PreparedStatements.idleNameLimit = 0; // no idle names: the first text's name goes at once
        try {
            clientNamesAreReusableAfterCloseWithoutIdleNames();
        } finally {
            PreparedStatements.idleNameLimit = limit;
        }
    }

    private void clientNamesAreReusableAfterCloseWithoutIdleNames() {
        PreparedStatements c = new PreparedStatements();
        byte[] first = body(unique("SELECT 'first'"));
        byte[] second = body(unique("SELECT 'second'"));
        String name1 = c.define("s", first, null).backendName();
        c.remove("s");
        String name2 = c.define("s", second, null).backendName();
        assertNotEquals(name1, name2);
        assertEquals(name2, c.get("s").backendName());
        // redefining without a Close is the server's 42P05 (FrontendRelay); the books refuse it
        assertThrows(IllegalStateException.class, () -> c.define("s", first, null));
        assertEquals(name2, c.get("s").backendName());
        c.remove("s");
        String name3 = c.define("s", first, null).backendName();
        assertNotEquals(name1, name3, "nobody held the first text's name any more: it was reclaimed, never reused");
        assertTrue(name3.startsWith("pgbalancer_"), name3);
    }

    @Test
    void clientNamesArePerClient() {
        PreparedStatements c1 = new PreparedStatements();
        PreparedStatements c2 = new PreparedStatements();
        String n1 = c1.define("s", body(unique("SELECT 1")), null).backendName();
        String n2 = c2.define("s", body(unique("SELECT 2")), null).backendName();
        assertNotEquals(n1, n2);
        assertEquals(n1, c1.get("s").backendName());
        assertEquals(n2, c2.get("s").backendName());
        c1.remove("s");
        assertTrue(c2.contains("s"));
    }

    @Test
    void clearForgetsEveryName() {
        PreparedStatements c = new PreparedStatements();
        c.define("a", body(unique("SELECT 1")), null);
        c.define("b", body(unique("SELECT 2")), null);
        c.clear();
        assertFalse(c.contains("a"));
        assertNull(c.get("b"));
        c.define("a", body(unique("SELECT 3")), null);
        assertTrue(c.contains("a"));
    }

    @Test
    void bodyEqualityIsByContent() {
        byte[] x = body("SELECT 1");
        PreparedStatements.Body a = new PreparedStatements.Body(x);
        PreparedStatements.Body b = new PreparedStatements.Body(x.clone());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new PreparedStatements.Body(body("SELECT 2")));
    }

    @Test
    void concurrentClientsAgreeOnTheName() throws Exception {
        String sql = unique("SELECT $1::text");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<String>> tasks = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                tasks.add(() -> new PreparedStatements().define("s", body(sql, 25), null).backendName());
            }
            Set<String> names = new HashSet<>();
            for (Future<String> f : pool.invokeAll(tasks)) {
                names.add(f.get());
            }
            assertEquals(1, names.size(), names.toString());
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- reclaiming names (bounded process-wide map)

    @Test
    void aNameIsReferencedByEachClientDefinitionOfItsText() {
        byte[] text = body(unique("SELECT 'shared'"));
        PreparedStatements c1 = new PreparedStatements();
        PreparedStatements c2 = new PreparedStatements();
        String name = c1.define("a", text, null).backendName();
        assertEquals(name, c2.define("b", text, null).backendName());
        assertEquals(name, c2.define("c", text, null).backendName(), "two names of one client: two references");
        assertEquals(3, PreparedStatements.references(text));
        c1.remove("a");
        assertEquals(2, PreparedStatements.references(text));
        c2.remove("b");
        c2.release(); // disconnect drops the rest
        assertEquals(0, PreparedStatements.references(text), "idle: no client defines it");
        assertEquals(name, new PreparedStatements().define("a", text, null).backendName(),
                "a client coming back to an idle text finds the same name (the servers may still have it)");
    }

    @Test
    void idleNamesAreDroppedOldestFirstAndNeverReused() {
        int limit = PreparedStatements.idleNameLimit;
        PreparedStatements.idleNameLimit = 2;
        try {
            PreparedStatements.trimIdle();
            byte[] first = body(unique("SELECT 'first'"));
            PreparedStatements c = new PreparedStatements();
            String name = c.define("s", first, null).backendName();
            c.remove("s");
            c.define("t", body(unique("SELECT 'second'")), null);
            c.remove("t");
            assertEquals(name, PreparedStatements.listedName(first), "the two newest idle texts are kept");
            c.define("t", body(unique("SELECT 'third'")), null);
            c.remove("t");
            assertNull(PreparedStatements.listedName(first), "the oldest idle text went");
            String again = c.define("s", first, null).backendName();
            assertNotEquals(name, again, "a dropped name is never given to anything again, even the same text");
            assertTrue(again.startsWith("pgbalancer_"), again);
        } finally {
            PreparedStatements.idleNameLimit = limit;
        }
    }

    @Test
    void idleNamesKeepAtMost16MBOfText() {
        String mb = "x".repeat(1 << 20);
        PreparedStatements c = new PreparedStatements();
        byte[] first = body(unique("SELECT '" + mb + "' AS first"));
        c.define("s", first, null);
        c.remove("s");
        assertNotNull(PreparedStatements.listedName(first));
        for (int i = 0; i < 16; i++) {
            c.define("s", body(unique("SELECT '" + mb + "' AS n" + i)), null);
            c.remove("s");
        }
        assertNull(PreparedStatements.listedName(first), "17 MB of idle text: the oldest went");
    }

    @Test
    void closingAndDisconnectingLeaveOnlyIdleNamesBehind() {
        int limit = PreparedStatements.idleNameLimit;
        PreparedStatements.idleNameLimit = 0;
        try {
            PreparedStatements.trimIdle();
            int before = PreparedStatements.globalNameCount();
            PreparedStatements c = new PreparedStatements();
            for (int i = 0; i < 1000; i++) {
                c.define("s" + i, body(unique("SELECT " + i)), null);
            }
            assertEquals(before + 1000, PreparedStatements.globalNameCount());
            for (int i = 0; i < 500; i++) {
                c.remove("s" + i);
            }
            assertEquals(before + 500, PreparedStatements.globalNameCount());
            c.release();
            assertEquals(before, PreparedStatements.globalNameCount());
        } finally {
            PreparedStatements.idleNameLimit = limit;
        }
    }

    // ---- the client's view follows the server (ops undone when skipped or replayed)

    @Test
    void aSkippedParseLeavesNoNameAndDropsItsReference() {
        byte[] text = body(unique("SELECT 'skipped'"));
        PreparedStatements c = new PreparedStatements();
        PreparedStatements.Op op = c.define("s", text, null, false);
        assertTrue(c.contains("s"), "usable by the messages that follow it in the pipeline");
        assertEquals(1, PreparedStatements.references(text));
        op.skipped();
        assertFalse(c.contains("s"));
        assertEquals(0, PreparedStatements.references(text));
        op.answered(); // nothing happens after an undo
        assertFalse(c.contains("s"));
        assertEquals(0, PreparedStatements.references(text));
    }

    @Test
    void aSkippedCloseLeavesTheName() {
        PreparedStatements c = new PreparedStatements();
        byte[] text = body(unique("SELECT 'kept'"));
        PreparedStatements.Statement st = c.define("s", text, null);
        PreparedStatements.Op close = c.close("s", false);
        assertFalse(c.contains("s"));
        assertEquals(1, PreparedStatements.references(text), "the reference is kept until the Close settles");
        close.skipped();
        assertSame(st, c.get("s"));
        assertEquals(1, PreparedStatements.references(text));
        assertNull(c.close("nope", false), "closing a name that does not exist changes nothing");
        c.close("s", false).answered();
        assertFalse(c.contains("s"));
        assertEquals(0, PreparedStatements.references(text));
    }

    @Test
    void closeThenParseOfOneNameUndoNewestFirst() {
        PreparedStatements c = new PreparedStatements();
        PreparedStatements.Statement first = c.define("s", body(unique("SELECT 'one'")), null);
        PreparedStatements.Op close = c.close("s", false);
        PreparedStatements.Op parse = c.define("s", body(unique("SELECT 'two'")), null, false);
        parse.skipped();
        close.skipped();
        assertSame(first, c.get("s"));
    }

    @Test
    void whatAReplayedReadChangedIsUndoneAndTheRestSettlesWithTheWindow() {
        PreparedStatements c = new PreparedStatements();
        PreparedStatements.Statement kept = c.define("kept", body(unique("SELECT 'kept'")), null);
        PreparedStatements.Op parse = c.define("s", body(unique("SELECT 'in the read'")), null, true);
        PreparedStatements.Op close = c.close("kept", true);
        parse.answered();
        close.answered();
        assertTrue(c.contains("s"));
        c.replayed(); // the read runs again elsewhere: its Parse must not look like a duplicate there
        assertFalse(c.contains("s"));
        assertSame(kept, c.get("kept"));

        PreparedStatements.Op again = c.define("s", body(unique("SELECT 'in the read'")), null, true);
        again.answered();
        c.windowEnded(); // the client saw the answers
        c.replayed(); // (no window any more: nothing to undo)
        assertTrue(c.contains("s"));
    }
}

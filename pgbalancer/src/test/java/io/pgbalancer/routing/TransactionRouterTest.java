// Where a cycle runs: simple and extended reads and writes, transactions, read-only sessions, named statements, hints,
// pinning statements, settings-only cycles and a write later in the same extended cycle, through the real classifier.
package io.pgbalancer.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.StatementClassifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import io.pgbalancer.session.TestWire.Msgs;

class TransactionRouterTest {
    private final TransactionRouter router = new TransactionRouter();
    private final StatementClassifier classifier = new StatementClassifier(Set.of("my_write_fn"), 100);
    /** Decodes the text up to its NUL as the session's StatementMemo does, counting what it was asked. */
    private final List<String> classified = new ArrayList<>();
    private final TextClassifier texts = (buf, from, end) -> {
        int nul = buf.indexOf(from, end, (byte) 0);
        String sql = buf.toString(from, (nul < 0 ? end : nul) - from, StandardCharsets.UTF_8);
        classified.add(sql);
        return classifier.classify(sql);
    };
    /** The client's named statements, as its PreparedStatements would know them; records every lookup. */
    private final Map<String, Classification> named = new HashMap<>();
    private final List<String> lookedUp = new ArrayList<>();
    private final Function<String, Classification> lookup = name -> {
        lookedUp.add(name);
        return named.get(name);
    };
    private final List<ByteBuf> buffers = new ArrayList<>();

    @AfterEach
    void release() {
        buffers.forEach(ByteBuf::release);
    }

    // ---------------------------------------------------------------------------------------------- simple Query

    @Test
    void autocommitReadsOfEveryKindGoToAReplica() {
        for (String sql : List.of("SELECT 1", "select * from t where id = 1", "WITH x AS (SELECT 1) SELECT * FROM x",
                "VALUES (1), (2)", "TABLE t", "SHOW search_path", "EXPLAIN SELECT 1")) {
            assertEquals(Target.REPLICA, cycle(msgs().query(sql), false), sql);
        }
    }

    @Test
    void writesAndWhatCannotBeReadGoToThePrimary() {
        for (String sql : List.of("INSERT INTO t VALUES (1)", "UPDATE t SET x = 1", "DELETE FROM t",
                "SELECT * FROM t FOR UPDATE", "SELECT nextval('s')", "SELECT my_write_fn()",
                "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "EXPLAIN ANALYZE SELECT 1",
                "SELECT 1 INTO t2", "CREATE TABLE t3 (x int)", "VACUUM", "SELECT 1; INSERT INTO t VALUES (1)")) {
            assertEquals(Target.PRIMARY, cycle(msgs().query(sql), false), sql);
        }
    }

    @Test
    void aTransactionStartsOnThePrimaryUnlessDeclaredReadOnly() {
        assertEquals(Target.PRIMARY, cycle(msgs().query("BEGIN"), false));
        assertEquals(Target.PRIMARY, cycle(msgs().query("START TRANSACTION ISOLATION LEVEL SERIALIZABLE"), false));
        assertEquals(Target.REPLICA, cycle(msgs().query("BEGIN READ ONLY"), false));
        assertEquals(Target.REPLICA, cycle(msgs().query("START TRANSACTION READ ONLY"), false));
        assertEquals(Target.REPLICA, cycle(msgs().query("begin transaction isolation level repeatable read,"
                + " read only"), false));
    }

    @Test
    void aReadOnlySessionRunsEveryTransactionOnAReplica() {
        assertEquals(Target.REPLICA, cycle(msgs().query("BEGIN"), true));
        assertEquals(Target.REPLICA, cycle(msgs().query("SELECT 1"), true));
        // the server refuses the write with 25006, exactly as the primary would in such a session
        assertEquals(Target.REPLICA, cycle(msgs().query("INSERT INTO t VALUES (1)"), true));
        // nothing to classify: a lone Sync or Flush
        assertEquals(Target.REPLICA, cycle(msgs().sync(), true));
        assertEquals(Target.PRIMARY, cycle(msgs().sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().flush(), false));
    }

    @Test
    void aLeadingCloseOrFlushDoesNotDecide() {
        // pgjdbc closes a statement it evicted from its cache at the start of the next cycle
        assertEquals(Target.REPLICA, cycle(msgs().msg('C', 'S', "S_1").parse("S_2", "SELECT 1").bind("", "S_2")
                .execute().sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().msg('C', 'S', "S_1").parse("S_2", "INSERT INTO t VALUES (1)")
                .bind("", "S_2").execute().sync(), false));
        assertEquals(Target.REPLICA, cycle(msgs().flush().query("SELECT 1"), false));
        assertEquals(Target.PRIMARY, cycle(msgs().msg('C', 'S', "S_1").sync(), false), "nothing to classify");
    }

    @Test
    void aStatementThatPinsTheSessionGoesToThePrimaryEvenInAReadOnlySession() {
        // a session advisory lock taken on a replica would exclude nobody; LISTEN there would hear nothing
        assertEquals(Target.PRIMARY, cycle(msgs().query("SELECT pg_advisory_lock(4242)"), true));
        assertEquals(Target.PRIMARY, cycle(msgs().query("LISTEN jobs"), true));
    }

    @Test
    void aHintOverridesTheClassifier() {
        assertEquals(Target.REPLICA, cycle(msgs().query("/* pgbalancer: replica */ INSERT INTO t VALUES (1)"),
                false));
        assertEquals(Target.PRIMARY, cycle(msgs().query("/* pgbalancer: primary */ SELECT 1"), false));
        assertEquals(Target.PRIMARY, cycle(msgs().query("/* pgbalancer: primary */ SELECT 1"), true),
                "a primary hint wins over the read-only session too");
        assertEquals(Target.REPLICA, cycle(msgs().query("/* not a hint */ SELECT 1"), false));
    }

    @Test
    void statementsThatPinTheSessionGoToThePrimaryAndASessionSetMayRunAnywhere() {
        for (String sql : List.of("LISTEN ch", "SELECT pg_advisory_lock(1)", "PREPARE p AS SELECT 1",
                "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "SELECT set_config('search_path', 'x', false)",
                "LOAD 'auto_explain'")) {
            assertTrue(classifier.classify(sql).pins(), "the classifier pins on " + sql);
            assertEquals(Target.PRIMARY, cycle(msgs().query(sql), false), sql);
        }
        assertFalse(classifier.classify("SET search_path = x").sets().isEmpty());
        assertEquals(Target.ANY, cycle(msgs().query("SET search_path = x"), false),
                "a session SET is not a read, but needs no primary either: pgbalancer replays it anywhere");
        assertFalse(classifier.classify("SELECT pg_advisory_xact_lock(1)").pins());
        assertEquals(Target.PRIMARY, cycle(msgs().query("SELECT pg_advisory_xact_lock(1)"), false),
                "a transaction-level advisory lock does not pin, but is a write function like every lock");
    }

    @Test
    void aCycleOfOnlySessionSettingsMayRunOnAnyServer() {
        for (String sql : List.of("SET application_name = 'PostgreSQL JDBC Driver'", "SET extra_float_digits = 3",
                "set search_path to app, public", "SET SESSION search_path = x", "SET TIME ZONE 'UTC'",
                "SET SCHEMA 'app'", "SET NAMES 'UTF8'", "SET myapp.user_id = '42'", "RESET statement_timeout",
                "SET statement_timeout TO DEFAULT", "SET a.b = 1; SET c.d = 2; RESET work_mem",
                "SET default_transaction_read_only = off", "SET default_transaction_isolation = 'serializable'",
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY")) {
            assertTrue(TransactionRouter.onlySessionSettings(classifier.classify(sql)), sql);
            assertEquals(Target.ANY, cycle(msgs().query(sql), false), sql);
        }
        // pgjdbc's unnamed Parse/Bind/Execute, several under one Sync, and a named statement it prepared
        assertEquals(Target.ANY, cycle(msgs().parse("", "SET application_name = 'x'").bind("", "").execute().sync(),
                false));
        assertEquals(Target.ANY, cycle(msgs().parse("", "SET a.b = 1").bind("", "").execute()
                .parse("", "RESET c.d").bind("", "").execute().sync(), false));
        named.put("S_1", classifier.classify("SET search_path = x"));
        assertEquals(Target.ANY, cycle(msgs().bind("", "S_1").execute().sync(), false));
        assertEquals(Target.REPLICA, cycle(msgs().query("SET search_path = x"), true),
                "a read-only session runs it on a replica, as everything else");
        assertEquals(Target.REPLICA, cycle(msgs().query("/* pgbalancer: replica */ SET search_path = x"), false));
    }

    @Test
    void settingsTheStandbyRefusesOrThatDoMoreKeepNeedingThePrimary() {
        for (String sql : List.of(
                // a standby answers 0A000 to read-write mode and to serializable
                "SET transaction_read_only = off", "SET transaction_isolation = 'serializable'",
                "SET transaction_deferrable = on", "RESET transaction_isolation",
                // transaction scoped: no session setting to replay; meaningful only in the transaction they are in
                "SET TRANSACTION READ WRITE", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                "SET LOCAL search_path = x", "SET CONSTRAINTS ALL DEFERRED",
                // pins, or resets more than settings
                "SET ROLE admin", "SET SESSION AUTHORIZATION admin", "RESET ALL", "DISCARD ALL",
                "SELECT set_config('search_path', 'x', false)",
                // anything else in the same text
                "SET search_path = x; SET LOCAL work_mem = '1MB'", "SET search_path = x; SELECT 1",
                "SET search_path = x; INSERT INTO t VALUES (1)", "BEGIN; SET search_path = x; COMMIT")) {
            assertFalse(TransactionRouter.onlySessionSettings(classifier.classify(sql)), sql);
            assertEquals(Target.PRIMARY, cycle(msgs().query(sql), false), sql);
        }
        assertEquals(Target.PRIMARY, cycle(msgs().query("/* pgbalancer: primary */ SET search_path = x"), false));
        assertEquals(Target.PRIMARY, cycle(msgs().parse("", "SET a.b = 1").bind("", "").execute()
                .parse("", "SELECT 1").bind("", "").execute().sync(), false), "a read with it: the primary, as before");
        assertEquals(Target.PRIMARY, cycle(msgs().parse("", "SELECT 1").bind("", "").execute()
                .parse("", "SET a.b = 1").bind("", "").execute().sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().parse("", "SET a.b = 1").bind("", "").execute()
                .parse("", "INSERT INTO t VALUES (1)").bind("", "").execute().sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().parse("", "BEGIN").bind("", "").execute()
                .parse("", "SET a.b = 1").bind("", "").execute().sync(), false),
                "an explicit transaction is decided at its BEGIN");
        assertEquals(Target.PRIMARY, cycle(msgs().parse("", "SET a.b = 1").bind("", "").execute()
                .parse("", "BEGIN").bind("", "").execute().sync(), false));
    }

    @Test
    void aSimpleQueryIsItsOwnCycleAndDoesNotLookAtWhatFollows() {
        Msgs m = msgs().query("SELECT 1").query("INSERT INTO t VALUES (1)");
        ByteBuf buf = m.buf;
        assertEquals(Target.REPLICA, router.routeCycle(buf, 0, texts, lookup, false));
        assertEquals(List.of("SELECT 1"), classified, "the pipelined write is not looked at for this cycle");
        assertEquals(Target.PRIMARY, router.routeCycle(buf, m.offset(1), texts, lookup, false),
                "the write's own cycle");
    }

    // ---------------------------------------------------------------------------------------------- extended

    @Test
    void anExtendedCycleRoutesByItsParse() {
        assertEquals(Target.REPLICA, cycle(msgs().parse("", "SELECT $1::int").bind("", "").execute().sync(),
                false));
        assertEquals(Target.PRIMARY, cycle(msgs().parse("", "UPDATE t SET x = $1").bind("", "").execute().sync(),
                false));
        assertEquals(Target.REPLICA, cycle(msgs().parse("", "SELECT 1").describeStatement("").sync(), false));
    }

    @Test
    void aWriteLaterInTheSameExtendedCycleSendsTheWholeCycleToThePrimary() {
        Msgs m = msgs().parse("", "SELECT 1").bind("", "").execute()
                .parse("", "INSERT INTO t VALUES (1)").bind("", "").execute().sync();
        assertEquals(Target.PRIMARY, cycle(m, false), "pgjdbc's batched SELECT; INSERT under one Sync");

        Msgs named = msgs().parse("", "SELECT 1").bind("", "").execute().bind("", "ins").execute().sync();
        this.named.put("ins", classifier.classify("INSERT INTO t VALUES ($1)"));
        assertEquals(Target.PRIMARY, cycle(named, false), "a Bind of a named write later in the cycle");
    }

    @Test
    void onlyTheCycleUpToItsSyncDecides() {
        Msgs m = msgs().parse("", "SELECT 1").bind("", "").execute().sync()
                .parse("", "INSERT INTO t VALUES (1)").bind("", "").execute().sync();
        assertEquals(Target.REPLICA, cycle(m, false), "the write belongs to the next cycle");
        assertEquals(Target.PRIMARY, router.routeCycle(m.buf, m.offset(4), texts, lookup, false));

        Msgs thenQuery = msgs().parse("", "SELECT 1").bind("", "").execute().query("INSERT INTO t VALUES (1)");
        assertEquals(Target.REPLICA, cycle(thenQuery, false), "a simple Query ends the extended cycle too");
    }

    @Test
    void aWriteWhoseBytesHaveNotArrivedYetCannotBeSeen() {
        Msgs m = msgs().parse("", "SELECT 1").bind("", "").execute()
                .parse("", "INSERT INTO t VALUES (1)").bind("", "").execute().sync();
        ByteBuf whole = m.buf;
        ByteBuf partial = whole.slice(0, m.offset(3) + 10); // the second Parse is cut short
        assertEquals(Target.REPLICA, router.routeCycle(partial, 0, texts, lookup, false));
        assertFalse(classified.contains("INSERT INTO t VALUES (1)"), "an incomplete message is never decoded");
    }

    @Test
    void aDeclaredReadOnlyTransactionOrSessionStaysOnTheReplicaWhateverFollows() {
        Msgs ro = msgs().parse("", "BEGIN READ ONLY").bind("", "").execute()
                .parse("", "INSERT INTO t VALUES (1)").bind("", "").execute().sync();
        assertEquals(Target.REPLICA, cycle(ro, false), "the server refuses the write, as it would direct");

        Msgs session = msgs().parse("", "SELECT 1").bind("", "").execute()
                .parse("", "INSERT INTO t VALUES (1)").bind("", "").execute().sync();
        assertEquals(Target.REPLICA, cycle(session, true));
    }

    @Test
    void aHintedWriteLaterInTheCycleStillSendsItToThePrimary() {
        Msgs m = msgs().parse("", "SELECT 1").bind("", "").execute()
                .parse("", "/* pgbalancer: primary */ SELECT 2").bind("", "").execute().sync();
        assertEquals(Target.PRIMARY, cycle(m, false));
    }

    // ---------------------------------------------------------------------------------------------- named statements

    @Test
    void aNamedStatementRoutesByWhatItsParseWas() {
        named.put("S_1", classifier.classify("SELECT * FROM t WHERE id = $1"));
        named.put("S_2", classifier.classify("UPDATE t SET x = $1"));
        assertEquals(Target.REPLICA, cycle(msgs().bind("", "S_1").execute().sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().bind("", "S_2").execute().sync(), false));
        assertEquals(Target.REPLICA, cycle(msgs().bind("portal", "S_1").execute().sync(), false),
                "the statement name follows the portal name");
        assertEquals(Target.REPLICA, cycle(msgs().describeStatement("S_1").sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().describeStatement("S_2").sync(), false));
        assertEquals(List.of("S_1", "S_2", "S_1", "S_1", "S_2"), lookedUp, "each looked up by its exact name");
    }

    @Test
    void anUnknownOrUnnamedStatementOrAPortalDescribeCannotBeReadAndGoesToThePrimary() {
        assertEquals(Target.PRIMARY, cycle(msgs().bind("", "never_parsed").execute().sync(), false));
        assertEquals(Target.PRIMARY, cycle(msgs().bind("", "").execute().sync(), false),
                "the unnamed statement never outlives its transaction, so a lone Bind of it is unknown");
        assertEquals(Target.PRIMARY, cycle(msgs().describePortal("").sync(), false));
        assertEquals(List.of("never_parsed"), lookedUp, "the unnamed statement and portals are never looked up");
        assertEquals(Target.REPLICA, cycle(msgs().bind("", "never_parsed").execute().sync(), true),
                "a read-only session reads on a replica even then");
    }

    // ---------------------------------------------------------------------------------------------- one message

    @Test
    void routeDecidesOnOneMessageOnly() {
        Msgs m = msgs().parse("", "SELECT 1").parse("", "DELETE FROM t").sync();
        ByteBuf buf = m.buf;
        assertEquals(Target.REPLICA, router.route(buf, 0, m.offset(1), texts, lookup, false));
        assertEquals(Target.PRIMARY, router.route(buf, m.offset(1), m.offset(2) - m.offset(1), texts, lookup, false));
        assertEquals(Target.PRIMARY, router.route(buf, m.offset(2), 5, texts, lookup, false));
        assertEquals(Target.REPLICA, router.route(buf, m.offset(2), 5, texts, lookup, true));
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private Target cycle(Msgs m, boolean readOnlySession) {
        return router.routeCycle(m.buf, 0, texts, lookup, readOnlySession);
    }

    /** Frontend messages in one buffer (see TestWire.Msgs), released after the test. */
    private Msgs msgs() {
        Msgs m = new Msgs();
        buffers.add(m.buf);
        return m;
    }
}

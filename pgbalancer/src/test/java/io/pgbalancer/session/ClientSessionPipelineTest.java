// purpose: ClientSession keeps a backend until the pipeline's Sync and keeps its prepared-statement bookkeeping true after errors
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.routing.Router;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.sql.StatementClassifier;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import io.pgbalancer.session.TestWire.Msg;
import io.pgbalancer.session.TestWire.Msgs;

import static io.pgbalancer.session.TestWire.drain;
import static io.pgbalancer.session.TestWire.messages;
import static io.pgbalancer.session.TestWire.types;

/**
 * A session on an EmbeddedChannel client, with one pooled backend connection whose channel is also an
 * EmbeddedChannel: the test plays the PostgreSQL server by reading what the proxy forwards and feeding answers.
 */
class ClientSessionPipelineTest {
    private EmbeddedChannel client;
    private EmbeddedChannel server;
    private BackendPool pool;
    private BackendConnection backend;
    private ClientSession session;

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @BeforeEach
    void setUp() throws Exception {
        setUp("");
    }

    /** A fresh session and pool; {@code extraYaml} adds config sections (e.g. a pool section). */
    private void setUp(String extraYaml) throws Exception {
        PgBalancerConfig config = ConfigLoader.parse("""
                auth: {users: [{name: app, password: secret}]}
                backends:
                  - {host: 127.0.0.1, port: 1, role: primary}
                """ + (extraYaml.contains("routing:") ? "" : "routing: {consistency: eventual}\n") + extraYaml,
                Map.of(), "test");
        sweeper = new io.netty.channel.DefaultEventLoopGroup(1);
        client = new EmbeddedChannel();
        server = new EmbeddedChannel();
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), user -> "secret", sweeper);
        Router router = new Router(config);
        pool = pools.pool(router.primary(), "app", "db");
        backend = TestWire.connection(pool, server); // the only idle connection
        StatementClassifier classifier = new StatementClassifier(Set.of(), 100);
        SessionServices services = new SessionServices(config, pools, classifier, new CancelRegistry(),
                new SessionTracker(), router);
        session = new ClientSession(client, services, "app", "db", SessionSettings.NONE);
        session.start();
        client.runPendingTasks();
        List<Character> welcome = types(drain(client));
        assertEquals('Z', welcome.get(welcome.size() - 1), "welcome ends with ReadyForQuery: " + welcome);
        assertTrue(session.lease.tracker().isEmpty());
        // transaction pooling: the backend went back to the pool; each client burst borrows it again
        assertFalse(session.holdsBackend());
        assertEquals(1, pool.idleCount());
    }

    private io.netty.channel.EventLoopGroup sweeper;

    @AfterEach
    void tearDown() {
        sweeper.shutdownGracefully();
        session.onClientClosed();
        client.finishAndReleaseAll();
        server.finishAndReleaseAll();
    }

    // ---- wire helpers ----

    private static Msgs msgs() {
        return new Msgs();
    }

    private void fromClient(Msgs m) {
        session.onClientFrames(m.buf);
        client.runPendingTasks();
    }

    private void fromServer(Msgs m) {
        session.onBackendData(backend, m.buf);
        client.runPendingTasks();
    }

    private static byte[] bytes(Msgs m) {
        byte[] out = new byte[m.buf.readableBytes()];
        m.buf.readBytes(out);
        m.buf.release();
        return out;
    }

    /** What PostgreSQL answers to {@code sent} when every message succeeds (statements return no rows). */
    private static Msgs answersTo(List<Msg> sent) {
        Msgs m = msgs();
        for (Msg x : sent) {
            switch (x.type()) {
                case 'P' -> m.msg('1');
                case 'B' -> m.msg('2');
                case 'C' -> m.msg('3');
                case 'D' -> m.msg('t', (short) 0).msg('n');
                case 'E' -> m.msg('C', "SELECT 0");
                case 'S' -> m.ready('I');
                case 'Q' -> m.msg('C', "SET").ready('I');
                default -> {
                }
            }
        }
        return m;
    }

    /** The client sends {@code m}, the server answers everything successfully; returns what the client got. */
    private List<Character> roundTrip(Msgs m) {
        fromClient(m);
        fromServer(answersTo(messages(drain(server))));
        return types(drain(client));
    }

    // ---- tests ----

    @Test
    void plainPipelineRoundTrip() {
        fromClient(msgs().parse("s1", "SELECT 1").bind("s1").execute().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'B', 'E', 'S'), sent.stream().map(Msg::type).toList());
        String backendName = sent.get(0).cstring(0);
        assertTrue(backendName.startsWith("pgbalancer_"), backendName);
        assertTrue(backend.statements().contains(backendName));
        fromServer(msgs().msg('1').msg('2').msg('D', (short) 0).msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('1', '2', 'D', 'C', 'Z'), types(drain(client)));
        assertTrue(session.lease.tracker().isEmpty());
        assertFalse(session.holdsBackend(), "released after ReadyForQuery(idle)");
        assertEquals(1, pool.idleCount());
    }

    /**
     * After an error the server skips every message up to Sync, including later Parses: their statements are never
     * created, so the proxy must not believe they exist on this backend.
     */
    @Test
    void parsesSkippedAfterAnErrorAreNotRecordedAsPrepared() {
        fromClient(msgs().parse("bad", "SELEC 1").parse("good", "SELECT 2 AS skipped_after_error").sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'P', 'S'), sent.stream().map(Msg::type).toList());
        String badName = sent.get(0).cstring(0);
        String goodName = sent.get(1).cstring(0);
        fromServer(msgs().error("42601", "syntax error at or near \"SELEC\"").ready('I'));
        assertEquals(List.of('E', 'Z'), types(drain(client)));
        assertFalse(backend.statements().contains(badName), "the failed Parse is forgotten");
        assertFalse(backend.statements().contains(goodName),
                "the Parse the server skipped until Sync is still recorded as prepared on the backend");

        // consequence: the client retries; the proxy must send the Parse, not fake its ParseComplete
        fromClient(msgs().parse("good", "SELECT 2 AS skipped_after_error").bind("good").execute().sync());
        List<Character> retried = types(drain(server));
        assertTrue(retried.contains('P'), "the retried Parse was not sent to the backend: " + retried);
        fromServer(msgs().msg('1').msg('2').msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('1', '2', 'C', 'Z'), types(drain(client)));
        assertTrue(session.lease.tracker().isEmpty());
    }

    /** Parse/Describe/Flush without Sync: the server holds an implicit transaction; the backend is still in use. */
    @Test
    void backendIsKeptUntilSyncWhenTheClientOnlyFlushes() {
        fromClient(msgs().parse("", "SELECT 1").describeStatement("").flush());
        assertEquals(List.of('P', 'D', 'H'), types(drain(server)));
        fromServer(msgs().msg('1').msg('t', (short) 0).msg('T', (short) 0));
        assertEquals(List.of('1', 't', 'T'), types(drain(client)));
        assertTrue(session.holdsBackend(),
                "backend released before the client's Sync (its unnamed statement and open implicit transaction "
                        + "go back to the pool)");
        assertEquals(0, pool.idleCount());
    }

    /** An error before Sync leaves the server skipping messages: the connection must not go back to the pool. */
    @Test
    void backendIsKeptAfterAnErrorUntilSync() {
        fromClient(msgs().parse("", "SELEC 1").flush());
        drain(server);
        fromServer(msgs().error("42601", "syntax error"));
        assertEquals(List.of('E'), types(drain(client)));
        assertTrue(session.lease.tracker().isDiscarding());
        assertEquals(0, pool.idleCount(),
                "a backend discarding messages until Sync was returned to the pool for the next client");
        assertTrue(session.holdsBackend());
        fromClient(msgs().sync());
        assertEquals(List.of('S'), types(drain(server)));
        fromServer(msgs().ready('I'));
        assertEquals(List.of('Z'), types(drain(client)));
        assertFalse(session.holdsBackend());
        assertEquals(1, pool.idleCount());
    }

    // ---- duplicate statement names (42P05), exactly as direct

    /** The query text of a Parse as forwarded: after its name. */
    private static String parseText(Msg parse) {
        String name = parse.cstring(0);
        return parse.cstring(name.getBytes(StandardCharsets.UTF_8).length + 1);
    }

    /**
     * A second Parse of a name the client has not closed: the server itself must fail it (the error, the abort of
     * the transaction and the skip to Sync are all the server's), and the client's statement stays the first one.
     */
    @Test
    void aDuplicateParseFailsOnTheServerWith42P05() {
        assertEquals(List.of('1', 'Z'), roundTrip(msgs().parse("s1", "SELECT 1").sync()));
        String backendName = session.statements.get("s1").backendName();

        fromClient(msgs().parse("s1", "SELECT 2").bind("s1").execute().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'P', 'B', 'E', 'S'), types(sent), "the duplicate Parse was not sent on: " + sent);
        assertEquals("s1", sent.get(0).cstring(0), "a hidden Parse creates the client's name first");
        assertEquals("", parseText(sent.get(0)), "with an empty query, which cannot fail");
        assertEquals("s1", sent.get(1).cstring(0), "then the client's own Parse, untouched, must fail on it");
        assertEquals("SELECT 2", parseText(sent.get(1)));

        Msg serverError = messages(bytes(msgs().error("42P05", "prepared statement \"s1\" already exists"))).get(0);
        fromServer(msgs().msg('1').error("42P05", "prepared statement \"s1\" already exists").ready('I'));
        List<Msg> got = messages(drain(client));
        assertEquals(List.of('E', 'Z'), types(got), "only the server's error and the Sync's ReadyForQuery");
        assertArrayEquals(serverError.body(), got.get(0).body(), "the server's own ErrorResponse, untouched");
        assertEquals(backendName, session.statements.get("s1").backendName(), "s1 is still the first statement");
        assertTrue(session.lease.tracker().isEmpty());

        // the client's name never stays on the server: closed before the next cycle, answers hidden
        fromClient(msgs().bind("s1").execute().sync());
        sent = messages(drain(server));
        assertEquals(List.of('C', 'S', 'B', 'E', 'S'), types(sent));
        assertEquals("s1", sent.get(0).cstring(1));
        assertEquals(backendName, sent.get(2).cstring(1));
        fromServer(answersTo(sent));
        assertEquals(List.of('2', 'C', 'Z'), types(drain(client)));
        assertFalse(session.holdsBackend());
    }

    @Test
    void theUnnamedStatementIsReparsedFreely() {
        assertEquals(List.of('1', 'Z'), roundTrip(msgs().parse("", "SELECT 1").sync()));
        fromClient(msgs().parse("", "SELECT 2").parse("", "SELECT 3").sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'P', 'S'), types(sent));
        assertEquals("", sent.get(0).cstring(0));
        fromServer(answersTo(sent));
        assertEquals(List.of('1', '1', 'Z'), types(drain(client)));
    }

    @Test
    void aDuplicateAfterAnEarlierErrorIsSkippedLikeEverythingElse() {
        roundTrip(msgs().parse("s1", "SELECT 1").sync());
        fromClient(msgs().parse("", "SELEC").parse("s1", "SELECT 2").sync());
        assertEquals(List.of('P', 'P', 'P', 'S'), types(drain(server)));
        fromServer(msgs().error("42601", "syntax error at or near \"SELEC\"").ready('I'));
        assertEquals(List.of('E', 'Z'), types(drain(client)), "one error: the duplicate was skipped, as direct");
        assertEquals(List.of(), types(drain(server)), "nothing more is sent until the client's next message");
        fromClient(msgs().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('C', 'S', 'S'), types(sent), "then the name is closed (it never existed: no matter)");
        fromServer(answersTo(sent));
        assertEquals(List.of('Z'), types(drain(client)));
    }

    @Test
    void aCloseTheServerSkippedLeavesTheName() {
        roundTrip(msgs().parse("s1", "SELECT 1").sync());
        fromClient(msgs().parse("", "SELEC").closeStatement("s1").sync());
        assertEquals(List.of('P', 'S'), types(drain(server)), "a named Close is answered by pgbalancer");
        fromServer(msgs().error("42601", "syntax error").ready('I'));
        assertEquals(List.of('E', 'Z'), types(drain(client)), "no CloseComplete: the server skipped the Close");
        assertTrue(session.statements.contains("s1"), "direct, s1 would still exist");
        fromClient(msgs().parse("s1", "SELECT 3").sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'P', 'S'), types(sent), "so a new Parse of s1 is a duplicate");
        assertEquals("", parseText(sent.get(0)));

        fromServer(msgs().msg('1').error("42P05", "prepared statement \"s1\" already exists").ready('I'));
        assertEquals(List.of('E', 'Z'), types(drain(client)));
        assertEquals(List.of('3', 'Z'), roundTrip(msgs().closeStatement("s1").sync()));
        assertFalse(session.statements.contains("s1"));
    }

    @Test
    void aParseTheServerSkippedDefinesNothing() {
        fromClient(msgs().parse("", "SELEC").parse("s1", "SELECT 1").sync());
        drain(server);
        fromServer(msgs().error("42601", "syntax error").ready('I'));
        assertEquals(List.of('E', 'Z'), types(drain(client)));
        assertFalse(session.statements.contains("s1"), "direct, s1 was never created");
        fromClient(msgs().parse("s1", "SELECT 1").sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'S'), types(sent), "not a duplicate");
        assertTrue(sent.get(0).cstring(0).startsWith("pgbalancer_"));
        fromServer(answersTo(sent));
        assertEquals(List.of('1', 'Z'), types(drain(client)));
    }

    /**
     * Pipelined cycles: whether s1 exists for the second depends on the first's answer (here a syntax error), which
     * the proxy cannot know when the second arrives. So the second cycle waits for it, and is then not a duplicate.
     */
    @Test
    void aCycleWaitsForEarlierNameChangesToBeAnswered() {
        fromClient(msgs().parse("s1", "SELEC 1").sync().parse("s1", "SELECT 1").bind("s1").execute().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'S'), types(sent), "only the first cycle goes before its answer");
        fromServer(msgs().error("42601", "syntax error at or near \"SELEC\"").ready('I'));
        List<Msg> second = messages(drain(server));
        assertEquals(List.of('P', 'B', 'E', 'S'), types(second), "then the held cycle, with s1 not existing");
        assertEquals("SELECT 1", parseText(second.get(0)));
        assertTrue(second.get(0).cstring(0).startsWith("pgbalancer_"));
        fromServer(answersTo(second));
        assertEquals(List.of('E', 'Z', '1', '2', 'C', 'Z'), types(drain(client)));
        assertFalse(session.holdsBackend());
    }

    @Test
    void cyclesWithoutNameChangesInFlightAreNotHeld() {
        roundTrip(msgs().parse("s1", "SELECT 1").sync());
        fromClient(msgs().bind("s1").execute().sync().bind("s1").execute().sync());
        assertEquals(List.of('B', 'E', 'S', 'B', 'E', 'S'), types(drain(server)));
    }

    /** An answer pgbalancer gives itself right after a ReadyForQuery must still come, in order, before the next. */
    @Test
    void aFakeAnswerAfterAPipelinedSyncIsNotLost() {
        roundTrip(msgs().parse("s1", "SELECT 1").sync());
        fromClient(msgs().bind("s1").execute().sync().closeStatement("s1").sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('B', 'E', 'S', 'S'), types(sent), "the Close is answered by pgbalancer");
        fromServer(answersTo(sent));
        assertEquals(List.of('2', 'C', 'Z', '3', 'Z'), types(drain(client)));
        assertFalse(session.statements.contains("s1"));
        assertTrue(session.lease.tracker().isEmpty());
    }

    // ---- malformed and out-of-order input (found by fuzzing)

    /**
     * Found by fuzzing: Describe, Close and Execute too short to hold their fields, last in their chunk, were read past
     * their end (an IndexOutOfBoundsException escaped the session) or, with a message after them, read into it.
     */
    @Test
    void aMessageTooShortForItsFieldsEndsTheSession() throws Exception {
        for (char type : new char[] {'D', 'C', 'E'}) {
            for (boolean last : new boolean[] {true, false}) {
                tearDown();
                setUp();
                Msgs m = msgs().parse("", "SELECT 1").msg(type);
                if (!last) {
                    m.sync();
                }
                fromClient(m);
                List<Msg> got = messages(drain(client));
                assertEquals(List.of('E'), types(got), type + (last ? " last" : " before a Sync"));
                assertTrue(new String(got.get(0).body(), StandardCharsets.UTF_8).contains("C08P01\0"));
                assertEquals(List.of(), types(drain(server)), "nothing of the chunk reached the server");
                assertTrue(session.isClosed());
            }
        }
    }

    /**
     * Found by fuzzing: a malformed first message of a cycle (a Bind without even its portal name) failed while it was
     * routed, before any backend was attached; the chunk holding it was never released.
     */
    @Test
    void aMalformedMessageThatStartsACycleEndsTheSessionAndIsReleased() {
        Msgs m = msgs().msg('B').sync();
        m.buf.retain(); // one reference for this test, to see that the session let go of its own
        session.onClientFrames(m.buf);
        client.runPendingTasks();
        assertEquals(1, m.buf.refCnt(), "the session kept the chunk");
        m.buf.release();
        List<Msg> got = messages(drain(client));
        assertEquals(List.of('E'), types(got));
        assertTrue(new String(got.get(0).body(), StandardCharsets.UTF_8).contains("C08P01\0"), "a protocol violation");
        assertTrue(session.isClosed());
        assertEquals(List.of(), types(drain(server)), "nothing reached the server");
    }

    /** PostgreSQL skips a simple Query sent after a failed extended message until Sync: it owes no answer for it. */
    @Test
    void aQueryPipelinedAfterAFailedParseGetsNoAnswer() {
        fromClient(msgs().parse("", "SELEC 1").query("SELECT 1").sync());
        assertEquals(List.of('P', 'Q', 'S'), types(drain(server)));
        fromServer(msgs().error("42601", "syntax error").ready('I')); // what PostgreSQL 15 answers
        assertEquals(List.of('E', 'Z'), types(drain(client)));
        assertTrue(session.lease.tracker().isEmpty(), "the proxy still waits for the Query's answers");
        assertFalse(session.holdsBackend());
        assertEquals(1, pool.idleCount());
    }

    // ---- Terminate with answers still owed (found by fuzzing: the session and its backend were kept forever)

    /**
     * PostgreSQL sends nothing of an extended-protocol segment before its Sync or Flush, so after a Terminate no answer
     * comes: the session must not wait for one. Its backend is closed (its implicit transaction ends, as direct).
     */
    @Test
    void terminateAfterAnUnsyncedSegmentDoesNotWaitForAnswers() {
        fromClient(msgs().parse("", "INSERT INTO t VALUES (1)").bind("").execute().msg('X'));
        assertEquals(List.of('P', 'B', 'E'), types(drain(server)), "what came before Terminate still runs");
        assertTrue(session.isClosed(), "the session waits for answers the server will never send");
        assertFalse(session.holdsBackend());
        assertFalse(server.isOpen(), "the backend, inside an implicit transaction, is closed, not pooled");
        assertEquals(0, pool.idleCount());
    }

    /** A COPY FROM STDIN before Terminate: the server waits for data that will never come. */
    @Test
    void terminateDuringCopyInDoesNotWaitForAnswers() {
        fromClient(msgs().query("COPY t FROM STDIN").msg('X'));
        assertEquals(List.of('Q'), types(drain(server)));
        assertFalse(session.isClosed(), "a Query is answered: its answers are awaited");
        fromServer(msgs().msg('G', (char) 0, (short) 0)); // CopyInResponse: the server now waits for CopyData
        assertTrue(session.isClosed(), "the session waits for the end of a COPY the client will never send");
        assertFalse(server.isOpen());
    }

    /** As before: after a complete cycle, Terminate waits for its answers and the backend goes back to the pool. */
    @Test
    void terminateAfterASyncedCycleAwaitsItsAnswersAndPoolsTheBackend() {
        fromClient(msgs().parse("", "COMMIT").bind("").execute().sync().msg('X'));
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'B', 'E', 'S'), types(sent));
        assertFalse(session.isClosed());
        fromServer(answersTo(sent));
        assertTrue(session.isClosed());
        assertEquals(1, pool.idleCount(), "the backend went back to the pool");
    }

    // ---- bounded statement caches

    private String backendNameOf(String clientName) {
        return session.statements.get(clientName).backendName();
    }

    @Test
    void aBackendKeepsAtMostMaxPreparedStatementsAndReCreatesOnDemand() throws Exception {
        tearDown();
        setUp("pool: {max_prepared_statements: 2}\n");
        for (int i = 1; i <= 3; i++) {
            assertEquals(List.of('1', 'Z'), roundTrip(msgs().parse("s" + i, "SELECT " + i).sync()));
        }
        String n1 = backendNameOf("s1");
        String n3 = backendNameOf("s3");
        assertEquals(3, backend.statements().size(), "one over until the next transaction starts");

        fromClient(msgs().bind("s3").execute().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('C', 'S', 'B', 'E', 'S'), types(sent), "the least recently used statement is closed");
        assertEquals('S', (char) sent.get(0).body()[0]);
        assertEquals(n1, sent.get(0).cstring(1));
        assertEquals(n3, sent.get(2).cstring(1));
        fromServer(answersTo(sent));
        assertEquals(List.of('2', 'C', 'Z'), types(drain(client)), "the hidden Close's answers stay hidden");
        assertEquals(2, backend.statements().size());
        assertFalse(backend.statements().contains(n1));

        fromClient(msgs().bind("s1").execute().sync());
        sent = messages(drain(server));
        assertEquals(List.of('P', 'B', 'E', 'S'), types(sent), "s1 is re-created where it was closed");
        assertEquals(n1, sent.get(0).cstring(0));
        fromServer(answersTo(sent));
        assertEquals(List.of('2', 'C', 'Z'), types(drain(client)));
        assertTrue(session.lease.tracker().isEmpty());
    }

    @Test
    void statementsOfTheRunningTransactionAreNotClosed() throws Exception {
        tearDown();
        setUp("pool: {max_prepared_statements: 1}\n");
        fromClient(msgs().msg('Q', "BEGIN"));
        drain(server);
        fromServer(msgs().msg('C', "BEGIN").ready('T'));
        drain(client);
        for (int i = 1; i <= 3; i++) {
            fromClient(msgs().parse("s" + i, "SELECT " + i).bind("s" + i).execute().sync());
            List<Msg> sent = messages(drain(server));
            assertEquals(List.of('P', 'B', 'E', 'S'), types(sent), "nothing closed inside the transaction");
            fromServer(inTransaction(sent));
            drain(client);
        }
        assertEquals(3, backend.statements().size());
        fromClient(msgs().msg('Q', "COMMIT"));
        drain(server);
        fromServer(msgs().msg('C', "COMMIT").ready('I'));
        drain(client);
        fromClient(msgs().bind("s3").execute().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('C', 'C', 'S', 'B', 'E', 'S'), types(sent), "after it, the two oldest go");
        fromServer(answersTo(sent));
        assertEquals(List.of('2', 'C', 'Z'), types(drain(client)));
        assertEquals(1, backend.statements().size());
    }

    /** Answers like {@link #answersTo} but with ReadyForQuery 'T' (inside a transaction block). */
    private static Msgs inTransaction(List<Msg> sent) {
        Msgs m = msgs();
        for (Msg x : sent) {
            switch (x.type()) {
                case 'P' -> m.msg('1');
                case 'B' -> m.msg('2');
                case 'E' -> m.msg('C', "SELECT 0");
                case 'S' -> m.ready('T');
                default -> throw new AssertionError(x.type());
            }
        }
        return m;
    }

    /** The process-wide statement-name map, read reflectively so this test also runs against older versions. */
    private static Map<?, ?> globalNames() throws ReflectiveOperationException {
        java.lang.reflect.Field f = PreparedStatements.class.getDeclaredField("GLOBAL_NAMES");
        f.setAccessible(true);
        return (Map<?, ?>) f.get(null);
    }

    /** Heap in use after full collections: what is retained. */
    private static long retainedHeap() throws InterruptedException {
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /**
     * Distinct statement texts, each prepared, executed and closed by the client in its own transaction (what pgjdbc
     * does as its statement cache turns over): the process-wide name map and the backend's statements must stay
     * bounded. 100,000 texts with -Dpgbalancer.statements=100000 (BENCHMARKS.md); prints the retained heap.
     */
    @Test
    void distinctStatementTextsKeepTheCachesBounded() throws Exception {
        int n = Integer.getInteger("pgbalancer.statements", 5_000);
        Map<?, ?> global = globalNames();
        int globalBefore = global.size();
        long heapBefore = retainedHeap();
        long started = System.nanoTime();
        for (int i = 0; i < n; i++) {
            fromClient(msgs().parse("s", "SELECT " + i + " AS distinct_statement_" + i).bind("s").execute()
                    .closeStatement("s").sync());
            fromServer(answersTo(messages(drain(server))));
            drain(client);
        }
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        long heapAfter = retainedHeap();
        int globalAfter = global.size();
        int onBackend = backend.statements().size();
        session.onClientClosed();
        client.close();
        long heapGone = retainedHeap();
        System.out.printf("%d distinct statements in %d s: process-wide names %d -> %d, backend statements %d,"
                + " retained heap %.1f MB before, %.1f MB after, %.1f MB after the client left%n", n, seconds,
                globalBefore, globalAfter, onBackend, heapBefore / 1048576.0, heapAfter / 1048576.0,
                heapGone / 1048576.0);
        assertTrue(globalAfter <= globalBefore + 10_000, "process-wide names grew from " + globalBefore + " to "
                + globalAfter + " (at most 10,000 idle ones are kept)");
        assertTrue(onBackend <= 1000 + 1, onBackend + " statements kept on one backend, limit 1000");
    }
}

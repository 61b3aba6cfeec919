// purpose: the lease's states and transitions, the replica read's replay window, Flush, retries and RESET restores
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.BackendLease.State;
import io.pgbalancer.session.TestWire.Msg;
import io.pgbalancer.session.TestWire.Msgs;
import io.pgbalancer.sql.StatementClassifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pgbalancer.session.TestWire.connection;
import static io.pgbalancer.session.TestWire.drain;
import static io.pgbalancer.session.TestWire.messages;
import static io.pgbalancer.session.TestWire.types;

/**
 * A session with a primary and one replica, each one pooled connection on an EmbeddedChannel: the test plays both
 * servers, reading what pgbalancer forwards to each and feeding their answers, with reads routed to the replica.
 */
class BackendLeaseTest {
    private DefaultEventLoopGroup sweeper = new DefaultEventLoopGroup(1);
    private EmbeddedChannel client;
    private EmbeddedChannel primaryChannel;
    private EmbeddedChannel replicaChannel;
    private BackendConnection primary;
    private BackendConnection replica;
    private BackendPool replicaPool;
    private ClientSession session;

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @BeforeEach
    void setUp() throws Exception {
        start("eventual"); // the lease's life cycle; commit positions are tested below with consistency user
    }

    private void start(String consistency) throws Exception {
        PgBalancerConfig config = ConfigLoader.parse("""
                auth: {users: [{name: app, password: secret}]}
                backends:
                  - {host: 127.0.0.1, port: 1, role: primary}
                  - {host: 127.0.0.1, port: 2, role: replica}
                routing: {consistency: %s}
                """.formatted(consistency), Map.of(), "test");
        client = new EmbeddedChannel();
        primaryChannel = new EmbeddedChannel();
        replicaChannel = new EmbeddedChannel();
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), user -> "secret", sweeper);
        BackendPool primaryPool = pools.pool(config.primary(), "app", "db");
        replicaPool = pools.pool(config.backends().get(1), "app", "db");
        primary = connection(primaryPool, primaryChannel);
        replica = connection(replicaPool, replicaChannel);
        SessionServices services = new SessionServices(config, pools, new StatementClassifier(Set.of(), 100),
                new CancelRegistry(), new SessionTracker(), new Router(config));
        session = new ClientSession(client, services, "app", "db",
                SessionSettings.fromStartup(Map.of("user", "app", "DateStyle", "Postgres, MDY")));
        session.start(); // borrows the primary to apply the startup settings
        assertEquals(List.of('Q'), types(drain(primaryChannel)), "the startup settings are applied first");
        assertEquals(State.BUSY, session.lease.state());
        fromServer(primary, new Msgs().msg('C', "SELECT 1").ready('I'));
        assertEquals('Z', last(types(drain(client))), "welcome after the settings sync");
        assertEquals(State.DETACHED, session.lease.state(), "the primary went back to its pool");
    }

    @AfterEach
    void tearDown() {
        session.onClientClosed();
        sweeper.shutdownGracefully();
        client.finishAndReleaseAll();
        primaryChannel.finishAndReleaseAll();
        replicaChannel.finishAndReleaseAll();
    }

    @Test
    void aReadGoesThroughIdleBusyIdleOnTheReplicaAndIsReleased() {
        fromClient(new Msgs().query("SELECT 1"));
        assertSame(replica, session.lease.backend());
        assertEquals(State.BUSY, session.lease.state());
        assertTrue(session.lease.onReplica());
        // the replica's settings sync (hidden) and then the client's query
        List<Msg> sent = messages(drain(replicaChannel));
        assertEquals(List.of('Q', 'Q'), sent.stream().map(Msg::type).toList());
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').rowDescription().msg('D', (short) 1, 1, "1")
                .msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('T', 'D', 'C', 'Z'), types(drain(client)), "the sync's answers stay hidden");
        assertEquals(State.DETACHED, session.lease.state());
        assertEquals(1, replicaPool.idleCount());
    }

    @Test
    void flushOnAReplicaDeliversEveryAnswerAtOnce() {
        fromClient(new Msgs().msg('P', "", "SELECT 1", (short) 0).msg('D', 'S', "").flush());
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I')
                .msg('1').msg('t', (short) 0).rowDescription());
        assertEquals(List.of('1', 't', 'T'), types(drain(client)),
                "answers to a Flush must not wait in the replay window: the client waits for them");
        assertEquals(State.BUSY, session.lease.state(), "no ReadyForQuery yet: the backend stays with the client");
        assertFalse(session.lease.replay().isOpen(), "the read is no longer replayable once the client saw answers");
        fromClient(new Msgs().msg('B', "", "", (short) 0, (short) 0, (short) 0).msg('E', "", 0).msg('S'));
        assertEquals(List.of('B', 'E', 'S'), types(drain(replicaChannel)));
        fromServer(replica, new Msgs().msg('2').msg('D', (short) 1, 1, "1").msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('2', 'D', 'C', 'Z'), types(drain(client)));
        assertEquals(State.DETACHED, session.lease.state());
    }

    @Test
    void aWriteAfterAFlushedReplicaPrepareClosesTheReplicaOffAndRunsOnThePrimary() {
        // asyncpg's copy_records_to_table: prepare a read (Parse, Describe, Flush), then COPY without a Sync
        fromClient(new Msgs().msg('P', "", "SELECT a FROM t LIMIT 1", (short) 0).msg('D', 'S', "").flush());
        assertSame(replica, session.lease.backend());
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('1').msg('t', (short) 0).rowDescription());
        assertEquals(List.of('1', 't', 'T'), types(drain(client)));
        fromClient(new Msgs().query("COPY t FROM STDIN"));
        assertEquals(List.of('S'), types(drain(replicaChannel)), "the replica's segment is ended with a hidden Sync");
        assertSame(replica, session.lease.backend(), "the COPY waits until the replica is done");
        fromServer(replica, new Msgs().ready('I'));
        assertEquals(List.of(), types(drain(client)), "the hidden Sync's answer is not shown");
        assertSame(primary, session.lease.backend(), "the COPY goes to the primary");
        assertEquals(List.of('Q'), types(drain(primaryChannel)));
        assertEquals(1, replicaPool.idleCount(), "the clean replica went back to its pool");
    }

    @Test
    void aReadAfterAFlushStaysOnTheReplica() {
        fromClient(new Msgs().msg('P', "", "SELECT 1", (short) 0).msg('D', 'S', "").flush());
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('1').msg('t', (short) 0).rowDescription());
        drain(client);
        fromClient(new Msgs().msg('B', "", "", (short) 0, (short) 0, (short) 0).msg('E', "", 0).msg('S'));
        assertEquals(List.of('B', 'E', 'S'), types(drain(replicaChannel)), "the bound read runs where it was parsed");
        assertSame(replica, session.lease.backend());
    }

    @Test
    void aClientThatLeavesAfterAFlushNeverHandsItsBackendToTheNextClient() {
        fromClient(new Msgs().msg('P', "", "SELECT 1", (short) 0).msg('D', 'S', "").flush());
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('1').msg('t', (short) 0).rowDescription());
        assertTrue(session.lease.tracker().isEmpty(), "everything sent was answered, but no Sync came");
        session.onClientClosed();
        assertEquals(0, replicaPool.idleCount(), "its open implicit transaction must not reach the next client");
        assertTrue(replica.isBroken());
        assertFalse(replicaChannel.isOpen(), "the connection is closed, so the server forgets the statement");
    }

    @Test
    void aSessionPinnedOnAReplicaStaysThereInsteadOfHanging() {
        fromClient(new Msgs().query("/* pgbalancer: replica */ SELECT pg_advisory_lock(777)"));
        assertSame(replica, session.lease.backend());
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').rowDescription().msg('D', (short) 1, 0, "")
                .msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('T', 'D', 'C', 'Z'), types(drain(client)));
        assertSame(replica, session.lease.backend(), "pinned: the session lock lives on this replica");
        fromClient(new Msgs().query("SELECT inet_server_port()"));
        assertEquals(List.of('Q'), types(drain(replicaChannel)),
                "the next statement runs where the session is pinned, not held for a primary it can never reach");
    }

    @Test
    void leadingClosesWaitForTheStatementThatDecidesWhereTheCycleRuns() {
        // pgjdbc closes evicted statements first; the rest of the cycle can come in the next TCP segment
        fromClient(new Msgs().closeStatement("S_1").closeStatement("S_2"));
        assertEquals(State.DETACHED, session.lease.state(), "no server chosen from Closes alone");
        assertEquals(List.of(), types(drain(primaryChannel)));
        fromClient(new Msgs().parse("", "SELECT 1").bind("").execute().sync());
        assertSame(replica, session.lease.backend(), "the read decides: a replica");
        assertEquals(List.of('Q', 'P', 'B', 'E', 'S'), types(drain(replicaChannel)),
                "the settings sync, then the read; the unknown names' Closes are answered by pgbalancer");
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('1').msg('2').msg('C', "SELECT 0").ready('I'));
        assertEquals(List.of('3', '3', '1', '2', 'C', 'Z'), types(drain(client)), "every Close answered, in order");
    }

    @Test
    void aReadTheReplicaRefusesRunsAgainOnThePrimaryUnseen() {
        fromClient(new Msgs().msg('P', "", "SELECT f()", (short) 0).msg('B', "", "", (short) 0, (short) 0, (short) 0)
                .msg('E', "", 0).msg('S'));
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('1').msg('2')
                .error("25006", "cannot execute INSERT in a read-only transaction"));
        assertEquals(State.REFUSED, session.lease.state());
        assertEquals(List.of(), types(drain(client)), "the refusal is not shown");
        fromServer(replica, new Msgs().ready('I'));
        assertSame(primary, session.lease.backend(), "the read runs again on the primary");
        assertEquals(1, replicaPool.idleCount(), "the clean replica went back to its pool");
        assertEquals(List.of('P', 'B', 'E', 'S'), types(drain(primaryChannel)));
        fromServer(primary, new Msgs().msg('1').msg('2').msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('1', '2', 'C', 'Z'), types(drain(client)), "only the primary's answers");
        assertEquals(State.DETACHED, session.lease.state());
    }

    @Test
    void aReplicaThatDiesBeforeAnsweringIsBannedAndTheReadRunsOnThePrimary() {
        fromClient(new Msgs().query("SELECT 2"));
        drain(replicaChannel);
        session.onBackendClosed(replica, null);
        assertSame(primary, session.lease.backend());
        assertEquals(List.of('Q'), types(drain(primaryChannel)));
        fromServer(primary, new Msgs().rowDescription().msg('D', (short) 1, 1, "2").msg('C', "SELECT 1").ready('I'));
        assertEquals(List.of('T', 'D', 'C', 'Z'), types(drain(client)));
    }

    @Test
    void aTransactionHoldsItsBackendInTransactionUntilReadyForQueryIdle() {
        fromClient(new Msgs().query("BEGIN"));
        assertSame(primary, session.lease.backend());
        drain(primaryChannel);
        fromServer(primary, new Msgs().msg('C', "BEGIN").ready('T'));
        assertEquals(State.IN_TRANSACTION, session.lease.state());
        fromClient(new Msgs().query("SELECT 1"));
        assertSame(primary, session.lease.backend(), "a transaction is never split");
        fromServer(primary, new Msgs().msg('C', "SELECT 0").ready('T'));
        fromClient(new Msgs().query("COMMIT"));
        fromServer(primary, new Msgs().msg('C', "COMMIT").ready('I'));
        assertEquals(State.DETACHED, session.lease.state());
    }

    @Test
    void aWritePipelinedAfterAReplicaReadWaitsThenGoesToThePrimary() {
        fromClient(new Msgs().query("SELECT 1").query("INSERT INTO t VALUES (1)"));
        assertSame(replica, session.lease.backend());
        assertEquals(List.of('Q', 'Q'), types(drain(replicaChannel)), "sync + the read only: the write waits");
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('C', "SELECT 0").ready('I'));
        assertSame(primary, session.lease.backend(), "the held write went to the primary");
        assertEquals(List.of('Q'), types(drain(primaryChannel)));
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('I'));
        assertEquals(List.of('C', 'Z', 'C', 'Z'), types(drain(client)));
    }

    @Test
    void resetOfAStartupParameterRestoresTheClientsValueBeforeReadyForQuery() {
        fromClient(new Msgs().query("SET datestyle TO iso"));
        drain(primaryChannel);
        fromServer(primary, new Msgs().msg('C', "SET").msg('S', "DateStyle", "ISO, MDY").ready('I'));
        assertEquals(List.of('C', 'S', 'Z'), types(drain(client)));
        fromClient(new Msgs().query("RESET datestyle"));
        drain(primaryChannel);
        fromServer(primary, new Msgs().msg('C', "RESET").msg('S', "DateStyle", "ISO, MDY").ready('I'));
        assertEquals(List.of('C'), types(drain(client)), "the server default is hidden and ReadyForQuery held");
        List<Msg> restore = messages(drain(primaryChannel));
        assertEquals(1, restore.size());
        assertEquals("SELECT pg_catalog.set_config(E'datestyle', E'Postgres, MDY', false);", restore.get(0).cstring(0));
        assertEquals(State.BUSY, session.lease.state());
        fromServer(primary, new Msgs().rowDescription().msg('D', (short) 1, 13, "Postgres, MDY").msg('C', "SELECT 1")
                .msg('S', "DateStyle", "Postgres, MDY").ready('I'));
        List<Msg> out = messages(drain(client));
        assertEquals(List.of('S', 'Z'), out.stream().map(Msg::type).toList());
        assertEquals("DateStyle", out.get(0).cstring(0));
        assertEquals(State.DETACHED, session.lease.state());
    }

    // ---- commit positions (consistency user) ----

    private void restart(String consistency) throws Exception {
        tearDown();
        sweeper = new DefaultEventLoopGroup(1);
        start(consistency);
    }

    /** The answers to the position query run as a prepared statement: (ParseComplete,) BindComplete, row, tag, Z. */
    private static Msgs lsnAnswer(String lsn, boolean parsed) {
        Msgs m = new Msgs();
        if (parsed) {
            m.msg('1');
        }
        return m.msg('2').msg('D', (short) 1, lsn.length(), lsn).msg('C', "SELECT 1").ready('I');
    }

    private static Msgs lsnAnswer(String lsn) {
        return lsnAnswer(lsn, false);
    }

    /** The position query's messages: Parse (the first time on a connection), Bind, Execute, Sync. */
    private static List<Character> positionQuery(boolean parse) {
        return parse ? List.of('P', 'B', 'E', 'S') : List.of('B', 'E', 'S');
    }

    private static List<Character> with(List<Character> a, List<Character> b) {
        List<Character> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void anAutocommitWriteLearnsItsCommitPositionBehindItInOneRoundTrip() throws Exception {
        restart("user");
        fromClient(new Msgs().query("INSERT INTO t VALUES (1)"));
        List<Msg> sent = messages(drain(primaryChannel));
        assertEquals(with(List.of('Q'), positionQuery(true)), types(sent),
                "the write and the position query, sent together");
        assertEquals(CommitLearner.STATEMENT, sent.get(1).cstring(0));
        assertEquals(CommitLearner.SQL, sent.get(1).cstring(CommitLearner.STATEMENT.length() + 1));
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('I'));
        assertEquals(List.of(), types(drain(client)), "the answers wait for the commit's position");
        assertEquals(State.BUSY, session.lease.state());
        fromServer(primary, lsnAnswer("0/3000060", true));
        assertEquals(List.of('C', 'Z'), types(drain(client)), "the position query's answers stay hidden");
        assertEquals(io.pgbalancer.causal.Lsn.parse("0/3000060"), session.causality.commitLsn());
        assertEquals(session.causality.commitLsn(), session.causality.requiredLsn(), "user scope needs it");
        assertEquals(State.DETACHED, session.lease.state());
    }

    @Test
    void anExplicitTransactionLearnsItsPositionOnlyAfterCommitNeverInsideIt() throws Exception {
        restart("user");
        fromClient(new Msgs().query("BEGIN"));
        assertEquals(List.of('Q'), types(drain(primaryChannel)), "nothing is sent inside the transaction");
        fromServer(primary, new Msgs().msg('C', "BEGIN").ready('T'));
        fromClient(new Msgs().query("INSERT INTO t VALUES (1)"));
        assertEquals(List.of('Q'), types(drain(primaryChannel)));
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('T'));
        fromClient(new Msgs().query("INSERT INTO t VALUES (2); COMMIT")); // not a COMMIT of its own: learned after
        assertEquals(List.of('Q'), types(drain(primaryChannel)));
        assertEquals(List.of('C', 'Z', 'C', 'Z'), types(drain(client)));
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").msg('C', "COMMIT").ready('I'));
        assertEquals(List.of(), types(drain(client)), "COMMIT's answers wait for the position, to go out at once");
        List<Msg> sent = messages(drain(primaryChannel));
        assertEquals(positionQuery(true), types(sent), "the position query goes after the commit");
        fromServer(primary, lsnAnswer("1/A0", true));
        assertEquals(List.of('C', 'C', 'Z'), types(drain(client)));
        assertEquals(io.pgbalancer.causal.Lsn.parse("1/A0"), session.causality.commitLsn());
    }

    @Test
    void aCommitOfItsOwnIsFollowedByThePositionQueryAtOnceButCommitAndChainIsNot() throws Exception {
        restart("user");
        fromClient(new Msgs().query("BEGIN"));
        fromServer(primary, new Msgs().msg('C', "BEGIN").ready('T'));
        fromClient(new Msgs().query("INSERT INTO t VALUES (1)"));
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('T'));
        drain(primaryChannel);
        drain(client);
        fromClient(new Msgs().parse("", "COMMIT").bind("").execute().sync());
        assertEquals(with(List.of('P', 'B', 'E', 'S'), positionQuery(true)), types(drain(primaryChannel)),
                "pgjdbc's COMMIT cycle, the position query right behind it");
        fromServer(primary, new Msgs().msg('1').msg('2').msg('C', "COMMIT").ready('I')
                .concat(lsnAnswer("2/10", true)));
        assertEquals(List.of('1', '2', 'C', 'Z'), types(drain(client)));
        assertEquals(io.pgbalancer.causal.Lsn.parse("2/10"), session.causality.commitLsn());

        fromClient(new Msgs().query("BEGIN"));
        fromServer(primary, new Msgs().msg('C', "BEGIN").ready('T'));
        fromClient(new Msgs().query("INSERT INTO t VALUES (2)"));
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('T'));
        drain(primaryChannel);
        drain(client);
        fromClient(new Msgs().query("COMMIT AND CHAIN"));
        assertEquals(List.of('Q'), types(drain(primaryChannel)), "the next transaction is open: nothing behind it");
        fromServer(primary, new Msgs().msg('C', "COMMIT").ready('T'));
        assertEquals(List.of('C', 'Z'), types(drain(client)), "still in a transaction: nothing to learn yet");
    }

    @Test
    void aFailedPositionQueryIsAskedAgainAndAfterThreeFailuresTheClientCarriesOn() throws Exception {
        restart("user");
        fromClient(new Msgs().query("INSERT INTO t VALUES (1)"));
        drain(primaryChannel);
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('I').error("57014", "canceled").ready('I'));
        assertEquals(List.of(), types(drain(client)), "a late cancel hit the position query: still held");
        assertEquals(positionQuery(true), types(drain(primaryChannel)), "asked again, prepared again");
        fromServer(primary, lsnAnswer("0/7000000", true));
        assertEquals(List.of('C', 'Z'), types(drain(client)));
        assertEquals(io.pgbalancer.causal.Lsn.parse("0/7000000"), session.causality.commitLsn());

        fromClient(new Msgs().query("INSERT INTO t VALUES (2)"));
        assertEquals(with(List.of('Q'), positionQuery(false)), types(drain(primaryChannel)),
                "prepared on this connection already: Bind, Execute, Sync");
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('I').error("XX000", "boom").ready('I'));
        fromServer(primary, new Msgs().error("XX000", "boom").ready('I'));
        fromServer(primary, new Msgs().error("XX000", "boom").ready('I'));
        assertEquals(with(positionQuery(true), positionQuery(true)), types(drain(primaryChannel)),
                "two more attempts, three in all");
        assertEquals(List.of('C', 'Z'), types(drain(client)), "then the client goes on");
        assertEquals(State.DETACHED, session.lease.state());
        assertTrue(client.isActive());
    }

    @Test
    void readsOnReplicasAndEventualConsistencyLearnNothing() throws Exception {
        restart("user");
        fromClient(new Msgs().query("SELECT 1"));
        assertSame(replica, session.lease.backend());
        assertEquals(List.of('Q', 'Q'), types(drain(replicaChannel)), "settings sync and the read, nothing else");
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('C', "SELECT 0").ready('I'));
        assertEquals(List.of('C', 'Z'), types(drain(client)));
        restart("eventual");
        fromClient(new Msgs().query("INSERT INTO t VALUES (1)"));
        assertEquals(List.of('Q'), types(drain(primaryChannel)), "eventual: no position query");
        fromServer(primary, new Msgs().msg('C', "INSERT 0 1").ready('I'));
        assertEquals(List.of('C', 'Z'), types(drain(client)));
    }

    @Test
    void aResetBehindWhichThePositionQueryWasSentStillReportsTheClientsValueBeforeReadyForQuery() throws Exception {
        restart("user");
        fromClient(new Msgs().query("RESET datestyle"));
        assertEquals(with(List.of('Q'), positionQuery(true)), types(drain(primaryChannel)),
                "the RESET and the position query behind it");
        fromServer(primary, new Msgs().msg('C', "RESET").msg('S', "DateStyle", "ISO, MDY").ready('I'));
        assertEquals(List.of('C'), types(drain(client)), "the server default is hidden and ReadyForQuery held");
        assertEquals(List.of('Q'), types(drain(primaryChannel)), "the restore, behind the position query");
        fromServer(primary, lsnAnswer("0/5000028", true));
        assertEquals(List.of(), types(drain(client)), "ReadyForQuery still waits for the restore");
        fromServer(primary, new Msgs().rowDescription().msg('D', (short) 1, 13, "Postgres, MDY").msg('C', "SELECT 1")
                .msg('S', "DateStyle", "Postgres, MDY").ready('I'));
        assertEquals(List.of('S', 'Z'), types(drain(client)), "as direct: ParameterStatus, then ReadyForQuery");
        assertEquals(io.pgbalancer.causal.Lsn.parse("0/5000028"), session.causality.commitLsn());
        assertEquals(State.DETACHED, session.lease.state());
    }

    // ---- wire helpers ----

    private void fromClient(Msgs m) {
        session.onClientFrames(m.buf);
        client.runPendingTasks();
    }

    private void fromServer(BackendConnection b, Msgs m) {
        session.onBackendData(b, m.buf);
        client.runPendingTasks();
    }

    private static char last(List<Character> types) {
        return types.get(types.size() - 1);
    }
}

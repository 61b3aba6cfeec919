// purpose: the lease's states and transitions, the replica read's replay window (also behind a simple-Query BEGIN),
// Flush, retries and RESET restores
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
/** The lease's life cycle with consistency eventual: commit positions are in CommitPositionLeaseTest. */
class BackendLeaseTest extends LeaseFixture {
    @BeforeEach
    void setUp() throws Exception {
        start("eventual");
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
    void aPinnedClientLeavingWhileItsCancelIsOnItsWayDoesNotHandItsBackendOn() {
        fromClient(new Msgs().query("/* pgbalancer: replica */ SELECT pg_advisory_lock(777)"));
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').rowDescription().msg('D', (short) 1, 0, "")
                .msg('C', "SELECT 1").ready('I'));
        drain(client);
        assertTrue(replica.cancelStarted(), "a cancel the client sent is on its way to the server");
        session.onClientClosed(); // pinned: a clean backend would be reset with DISCARD ALL and reused
        assertEquals(List.of(), types(drain(replicaChannel)), "no reset while the cancel may still land on it");
        assertTrue(replica.isBroken(), "closed once the cancel ends, never given to the next client");
        assertTrue(replica.cancelFinished(), "the cancel's end releases it (and the pool closes a broken one)");
        assertEquals(0, replicaPool.idleCount());
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
    void aReadOnlyTransactionBegunByASimpleQueryAndRefusedOnTheReplicaRunsAgainOnThePrimaryUnseen() {
        // pgjdbc 42.7.7+ sends BEGIN READ ONLY as a simple Query with the transaction's first extended cycle behind
        // it; a standby refuses the read when the session's default isolation is serializable
        fromClient(new Msgs().query("BEGIN READ ONLY").parse("", "SELECT 1").bind("").execute().sync());
        assertSame(replica, session.lease.backend());
        assertEquals(List.of('Q', 'Q', 'P', 'B', 'E', 'S'), types(drain(replicaChannel)));
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('C', "BEGIN").ready('T').msg('1').msg('2')
                .error("0A000", "cannot use serializable mode in a hot standby").ready('E'));
        assertEquals(List.of(), types(drain(client)), "the BEGIN's answers waited with the read, and are dropped");
        assertSame(primary, session.lease.backend(), "the transaction runs again on the primary");
        assertEquals(List.of('Q', 'P', 'B', 'E', 'S'), types(drain(primaryChannel)));
        fromServer(primary, new Msgs().msg('C', "BEGIN").ready('T').msg('1').msg('2').msg('C', "SELECT 1")
                .ready('T'));
        assertEquals(List.of('C', 'Z', '1', '2', 'C', 'Z'), types(drain(client)), "only the primary's answers");
        assertEquals(State.IN_TRANSACTION, session.lease.state());
    }

    @Test
    void aReadOnlyBeginTheClientWaitsForIsAnsweredAtOnce() {
        fromClient(new Msgs().query("BEGIN READ ONLY"));
        assertSame(replica, session.lease.backend());
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('C', "SET").ready('I').msg('C', "BEGIN").ready('T'));
        assertEquals(List.of('C', 'Z'), types(drain(client)), "nothing pipelined behind it: no reason to wait");
        fromClient(new Msgs().query("SELECT 1"));
        fromServer(replica, new Msgs().msg('C', "SELECT 0").ready('T'));
        assertEquals(List.of('C', 'Z'), types(drain(client)));
        assertSame(replica, session.lease.backend());
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

    /**
     * Found by fuzzing: after a pipelined Terminate the session waits for its last answers; a hidden settings query
     * failing meanwhile ended the lease (FAILED) but the session's end was skipped while it waited, so the session
     * and its broken backend were kept forever.
     */
    @Test
    void aFailedSettingsSyncAfterTerminateStillEndsTheSession() {
        fromClient(new Msgs().query("SELECT 1").msg('X'));
        assertSame(replica, session.lease.backend());
        assertEquals(List.of('Q', 'Q'), types(drain(replicaChannel)), "the replica's settings sync, then the query");
        assertFalse(session.isClosed(), "the query's answers are awaited");
        fromServer(replica, new Msgs().error("22023", "invalid value for parameter \"DateStyle\"").ready('I'));
        assertTrue(session.isClosed(), "the failed sync ends the session");
        assertFalse(session.holdsBackend());
        assertFalse(replicaChannel.isOpen(), "the broken backend is closed, not kept");
    }

    /** Found by fuzzing: a server error without a SQLSTATE, to a hidden query, ended the session with an empty one. */
    @Test
    void aFailedSettingsSyncWithoutASqlStateEndsTheSessionWithXX000() {
        fromClient(new Msgs().query("SELECT 1"));
        drain(replicaChannel);
        fromServer(replica, new Msgs().msg('E', 'S', "ERROR", 'V', "ERROR", 'M', "no code", (char) 0).ready('I'));
        List<Msg> got = messages(drain(client));
        assertEquals(List.of('E'), types(got));
        assertTrue(new String(got.get(0).body(), java.nio.charset.StandardCharsets.UTF_8).contains("VFATAL\0CXX000\0"),
                "the FATAL error's SQLSTATE");
        assertTrue(session.isClosed());
    }

    /**
     * Found by fuzzing: a RESET answered while the client's next extended segment was already on its way put the
     * restore (a simple Query) inside that segment. When the segment failed, the server skipped the restore as it
     * skips everything until Sync, and the Sync's ReadyForQuery was taken for the restore's: the client never got it
     * (and after a Terminate the session was kept forever). The restore now waits for the segment's end.
     */
    @Test
    void aRestoreWaitsForTheEndOfASegmentAlreadySent() {
        fromClient(new Msgs().query("RESET datestyle").parse("", "SELEC 1"));
        assertEquals(List.of('Q', 'P'), types(drain(primaryChannel)));
        fromServer(primary, new Msgs().msg('C', "RESET").msg('S', "DateStyle", "ISO, MDY").ready('I')
                .error("42601", "syntax error at or near \"SELEC\""));
        assertEquals(List.of('C', 'Z', 'E'), types(drain(client)));
        assertEquals(List.of(), types(drain(primaryChannel)), "nothing may go inside the client's open segment");
        fromClient(new Msgs().sync());
        List<Msg> sent = messages(drain(primaryChannel));
        assertEquals(List.of('S', 'Q'), types(sent), "the Sync, then the restore");
        assertEquals("SELECT pg_catalog.set_config(E'datestyle', E'Postgres, MDY', false);", sent.get(1).cstring(0));
        fromServer(primary, new Msgs().ready('I').msg('C', "SELECT 1").msg('S', "DateStyle", "Postgres, MDY")
                .ready('I'));
        List<Msg> out = messages(drain(client));
        assertEquals(List.of('Z', 'S'), types(out), "the Sync's ReadyForQuery, then the restored value");
        assertTrue(session.lease.tracker().isEmpty());
        assertEquals(State.DETACHED, session.lease.state());
    }
}

// purpose: commit positions learned on the lease (consistency user): the hidden position query, held ReadyForQuery, retries
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
/** With consistency user, every write's commit position is learned before its ReadyForQuery reaches the client. */
class CommitPositionLeaseTest extends LeaseFixture {
    @BeforeEach
    void setUp() throws Exception {
        start("user");
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
    void aSettingsOnlyCycleOnThePrimaryLearnsNoPosition() throws Exception {
        fromClient(new Msgs().query("SET application_name = 'PostgreSQL JDBC Driver'"));
        assertSame(primary, session.lease.backend(), "with a primary, a settings-only cycle runs there");
        assertEquals(List.of('Q'), types(drain(primaryChannel)), "it writes nothing: no position query behind it");
        fromServer(primary, new Msgs().msg('C', "SET").ready('I'));
        assertEquals(List.of('C', 'Z'), types(drain(client)), "nothing held");
        assertEquals(State.DETACHED, session.lease.state());
        assertEquals(io.pgbalancer.causal.Lsn.NONE, session.causality.commitLsn(), "nothing for later reads to wait for");
    }

    @Test
    void aResetBehindWhichThePositionQueryWasSentStillReportsTheClientsValueBeforeReadyForQuery() throws Exception {
        // a lone RESET writes nothing and learns no position (see above); the hint routes it as a write, as a RESET
        // in a write's cycle would be
        fromClient(new Msgs().query("/* pgbalancer: primary */ RESET datestyle"));
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
}

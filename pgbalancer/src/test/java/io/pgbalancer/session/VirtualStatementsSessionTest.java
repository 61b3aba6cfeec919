// purpose: a session answers SET/SHOW/RESET pgbalancer.* between transactions without a server, and routes what follows
package io.pgbalancer.session;

import static io.pgbalancer.session.TestWire.drain;
import static io.pgbalancer.session.TestWire.messages;
import static io.pgbalancer.session.TestWire.types;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
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

/** As ClientSessionPipelineTest: EmbeddedChannels for the client and the one pooled server connection. */
class VirtualStatementsSessionTest {
    private EventLoopGroup sweeper;
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
        PgBalancerConfig config = ConfigLoader.parse("""
                auth: {users: [{name: app, password: secret}]}
                backends:
                  - {host: 127.0.0.1, port: 1, role: primary}
                """, Map.of(), "test");
        sweeper = new DefaultEventLoopGroup(1);
        client = new EmbeddedChannel();
        server = new EmbeddedChannel();
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), user -> "secret", sweeper);
        Router router = new Router(config);
        pool = pools.pool(router.primary(), "app", "db");
        backend = TestWire.connection(pool, server);
        SessionServices services = new SessionServices(config, pools, new StatementClassifier(Set.of(), 100),
                new CancelRegistry(), new SessionTracker(), router);
        session = new ClientSession(client, services, "app", "db", SessionSettings.NONE);
        session.start();
        client.runPendingTasks();
        drain(client); // the welcome
        assertFalse(session.holdsBackend());
    }

    @AfterEach
    void tearDown() {
        sweeper.shutdownGracefully();
        session.onClientClosed();
        client.finishAndReleaseAll();
        server.finishAndReleaseAll();
    }

    private void fromClient(Msgs m) {
        session.onClientFrames(m.buf);
        client.runPendingTasks();
    }

    @Test
    void showIsAnsweredWithoutAServer() {
        session.causality.committed(0x16B3740L);
        fromClient(new Msgs().query("SHOW pgbalancer.commit_lsn"));
        List<Msg> got = messages(drain(client));
        assertEquals(List.of('T', 'D', 'C', 'Z'), types(got));
        assertEquals("0/16B3740", new String(got.get(1).body(), 6, 9, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals('I', (char) got.get(3).body()[0]);
        assertEquals(0, drain(server).length, "nothing reached the server");
        assertFalse(session.holdsBackend());
        assertEquals(1, pool.idleCount());
    }

    @Test
    void setChangesTheSessionsProxySettings() {
        fromClient(new Msgs().parse("", "SET pgbalancer.min_lsn = '0/2A'").bind("").describePortal("").execute()
                .sync());
        assertEquals(List.of('1', '2', 'n', 'C', 'Z'), types(drain(client)));
        assertEquals(0x2AL, session.causality.settings().minLsn());
        fromClient(new Msgs().query("SET pgbalancer.max_staleness = 'soon'"));
        assertEquals(List.of('E', 'Z'), types(drain(client)));
        assertEquals(0, drain(server).length);
    }

    @Test
    void theRestOfTheChunkIsRoutedAsUsual() {
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.max_staleness").bind("").execute().sync().query("SELECT 1");
        fromClient(in);
        assertEquals(List.of('1', '2', 'D', 'C', 'Z'), types(drain(client)), "answered before the server is asked");
        assertTrue(session.holdsBackend(), "the Query borrowed the backend");
        byte[] sent = drain(server);
        assertEquals(List.of('Q'), types(sent), "only the ordinary Query");
        assertEquals("SELECT 1", messages(sent).get(0).cstring(0));
        session.onBackendData(backend, new Msgs().msg('C', "SELECT 1").ready('I').buf);
        client.runPendingTasks();
        assertEquals(List.of('C', 'Z'), types(drain(client)));
        assertFalse(session.holdsBackend(), "released at the end of the transaction");
    }

    @Test
    void aCycleContinuesInALaterChunk() {
        fromClient(new Msgs().parse("stmt", "SHOW pgbalancer.min_lsn").describeStatement("stmt").flush());
        assertEquals(List.of('1', 't', 'T'), types(drain(client)));
        fromClient(new Msgs().bind("stmt").execute().sync());
        assertEquals(List.of('2', 'D', 'C', 'Z'), types(drain(client)));
        assertEquals(0, drain(server).length);
        assertFalse(session.holdsBackend());
    }

    @Test
    void ordinaryTrafficMakesNoProxyStatementsAndAnyCaseIsStillAnswered() {
        fromClient(new Msgs().query("SELECT 1"));
        assertEquals(List.of('Q'), types(drain(server)));
        session.onBackendData(backend, new Msgs().msg('C', "SELECT 1").ready('I').buf);
        client.runPendingTasks();
        drain(client);
        fromClient(new Msgs().parse("", "SELECT 1").bind("").execute().sync());
        assertEquals(List.of('P', 'B', 'E', 'S'), types(drain(server)));
        session.onBackendData(backend, new Msgs().msg('1').msg('2').msg('C', "SELECT 1").ready('I').buf);
        client.runPendingTasks();
        drain(client);
        assertFalse(session.hasProxyStatements(), "made only for a message that may be pgbalancer's own");
        fromClient(new Msgs().query("SELECT 'pgbalancer' AS name"));
        assertEquals(List.of('Q'), types(drain(server)), "a mere mention goes to the server");
        session.onBackendData(backend, new Msgs().msg('C', "SELECT 1").ready('I').buf);
        client.runPendingTasks();
        drain(client);
        fromClient(new Msgs().query("SHOW PGBalancer.min_lsn"));
        assertEquals(List.of('T', 'D', 'C', 'Z'), types(drain(client)));
        assertEquals(0, drain(server).length, "nothing reached the server");
        assertTrue(session.hasProxyStatements());
    }
}

// purpose: ClientSession keeps a backend until the pipeline's Sync and keeps its prepared-statement bookkeeping true after errors
package io.pgbalancer.session;

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
        PgBalancerConfig config = ConfigLoader.parse("""
                auth: {users: [{name: app, password: secret}]}
                backends:
                  - {host: 127.0.0.1, port: 1, role: primary}
                """, Map.of(), "test");
        client = new EmbeddedChannel();
        server = new EmbeddedChannel();
        PoolRegistry pools = new PoolRegistry(PoolSettings.from(config.pool()), user -> "secret", sweeper);
        pool = pools.pool(config.primary(), "app", "db");
        backend = TestWire.connection(pool, server); // the only idle connection
        StatementClassifier classifier = new StatementClassifier(Set.of(), 100);
        SessionServices services = new SessionServices(config, pools, classifier, new CancelRegistry(),
                new SessionTracker(), new Router(config));
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

    private final io.netty.channel.EventLoopGroup sweeper = new io.netty.channel.DefaultEventLoopGroup(1);

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

    // ---- tests ----

    @Test
    void plainPipelineRoundTrip() {
        fromClient(msgs().parse("s1", "SELECT 1").bind("s1").execute().sync());
        List<Msg> sent = messages(drain(server));
        assertEquals(List.of('P', 'B', 'E', 'S'), sent.stream().map(Msg::type).toList());
        String backendName = sent.get(0).cstring(0);
        assertTrue(backendName.startsWith("pgbalancer_"), backendName);
        assertTrue(backend.prepared.contains(backendName));
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
        assertFalse(backend.prepared.contains(badName), "the failed Parse is forgotten");
        assertFalse(backend.prepared.contains(goodName),
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
}

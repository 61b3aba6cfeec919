// purpose: a session with a primary and a replica on EmbeddedChannels, for tests that play both servers
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
 * A session with a primary and one replica, each one pooled connection on an EmbeddedChannel: a test plays both
 * servers, reading what pgbalancer forwards to each and feeding their answers, with reads routed to the replica.
 */
abstract class LeaseFixture {
    DefaultEventLoopGroup sweeper = new DefaultEventLoopGroup(1);
    EmbeddedChannel client;
    EmbeddedChannel primaryChannel;
    EmbeddedChannel replicaChannel;
    BackendConnection primary;
    BackendConnection replica;
    BackendPool replicaPool;
    ClientSession session;

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    void start(String consistency) throws Exception {
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
        Router router = new Router(config);
        BackendPool primaryPool = pools.pool(router.primary(), "app", "db");
        replicaPool = pools.pool(router.topology().replicas().get(0), "app", "db");
        primary = connection(primaryPool, primaryChannel);
        replica = connection(replicaPool, replicaChannel);
        SessionServices services = new SessionServices(config, pools, new StatementClassifier(Set.of(), 100),
                new CancelRegistry(), new SessionTracker(), router);
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

    void restart(String consistency) throws Exception {
        tearDown();
        sweeper = new DefaultEventLoopGroup(1);
        start(consistency);
    }

    void fromClient(Msgs m) {
        session.onClientFrames(m.buf);
        client.runPendingTasks();
    }

    void fromServer(BackendConnection b, Msgs m) {
        session.onBackendData(b, m.buf);
        client.runPendingTasks();
    }

    static char last(List<Character> types) {
        return types.get(types.size() - 1);
    }
}

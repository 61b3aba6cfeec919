// Checkout through a real session: the server per target, idle connections, waiting, 53300 on a pool timeout,
// a refusing replica banned with the read retried elsewhere, and settings-only cycles with no primary, against
// loopback fake servers.
package io.pgbalancer.session;

import io.pgbalancer.testing.Await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.monitor.BackendStatus;
import io.pgbalancer.net.Transport;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.FakePostgres;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import io.pgbalancer.routing.Target;
import io.pgbalancer.sql.StatementClassifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A primary and two replicas, each a {@link FakePostgres} on loopback that the pools really connect to. The session's
 * client is a local channel on the same Netty event loop as the backends (as in production, where a client and the
 * connections it opens share a loop); the test reads what the session sends its client from the channel's peer.
 * Every session call runs on that loop. The pools' periodic sweeps never run: the test expires waiters itself.
 */
class CheckoutTest {

    private final FakePostgres primaryServer = new FakePostgres();
    private final FakePostgres replica1Server = new FakePostgres();
    private final FakePostgres replica2Server = new FakePostgres();
    private final EmbeddedChannel sweeps = new EmbeddedChannel(); // a loop whose scheduled sweeps never run
    private EventLoopGroup group;
    private EventLoop loop;
    private Channel listener;
    private Channel peer;
    private final ByteBuf fromSession = Unpooled.buffer();
    private final CompletableFuture<Void> clientClosed = new CompletableFuture<>();
    private PgBalancerConfig config;
    private PoolRegistry pools;
    private Router router;
    private ClientSession session;

    CheckoutTest() throws Exception {
    }

    @BeforeEach
    void setUp() {
        group = Transport.group(1, "checkout-test");
        loop = group.next();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (session != null) {
            on(() -> {
                session.onClientClosed();
                return null;
            });
        }
        if (pools != null) {
            pools.close();
        }
        if (peer != null) {
            peer.close().sync();
        }
        if (listener != null) {
            listener.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        sweeps.finishAndReleaseAll();
        synchronized (fromSession) {
            fromSession.release();
        }
        primaryServer.close();
        replica1Server.close();
        replica2Server.close();
    }

    /** Starts a session as a client login does, with {@code extraYaml} added to the config. */
    private void start(String extraYaml) throws Exception {
        config = ConfigLoader.parse("auth: {users: [{name: app, password: secret}]}\n"
                + "backends:\n"
                + "  - {host: 127.0.0.1, port: " + primaryServer.port() + ", role: primary}\n"
                + "  - {host: 127.0.0.1, port: " + replica1Server.port() + ", role: replica}\n"
                + "  - {host: 127.0.0.1, port: " + replica2Server.port() + ", role: replica}\n"
                + extraYaml, Map.of(), "test");
        pools = new PoolRegistry(PoolSettings.from(config.pool()), user -> "secret", sweeps.eventLoop());
        router = new Router(config);
        SessionServices services = new SessionServices(config, pools, new StatementClassifier(Set.of(), 100),
                new CancelRegistry(), new SessionTracker(), router);
        Channel client = connectLocalClient();
        session = on(() -> new ClientSession(client, services, "app", "db", SessionSettings.fromStartup(
                Map.of("user", "app", "database", "db"))));
        on(() -> {
            session.start();
            return null;
        });
        awaitClient('Z', "the welcome after the startup settings were applied on the primary");
        if (!services.sessionPooling()) {
            await(() -> primaryPool().idleCount() == 1, "the primary connection back in its pool after the welcome");
        }
        clearClientOutput();
    }

    // ---------------------------------------------------------------------------------------------- per target

    @Test
    void aReadGoesToAReplicaAndAWriteToThePrimary() throws Exception {
        start("");
        query("SELECT 1");
        awaitClient('Z', "the read's answer");
        assertTrue(replica1Server.queries().contains("SELECT 1"), "the read ran on the first replica");
        assertFalse(primaryServer.queries().contains("SELECT 1"));
        assertEquals(1, node(replica1Server).transactions());

        clearClientOutput();
        query("INSERT INTO t VALUES (1)");
        awaitClient('Z', "the write's answer");
        assertTrue(primaryServer.queries().contains("INSERT INTO t VALUES (1)"), "the write ran on the primary");
        assertFalse(replica1Server.queries().contains("INSERT INTO t VALUES (1)"));
        assertFalse(replica2Server.queries().contains("INSERT INTO t VALUES (1)"));
    }

    @Test
    void aPinnedSessionRoutesEverythingToThePrimary() throws Exception {
        start("");
        ByteBuf read = queryMessage("SELECT 1");
        try {
            assertEquals(Target.REPLICA, on(() -> session.checkout.route(read, 0)));
            on(() -> session.pinned = true);
            assertEquals(Target.PRIMARY, on(() -> session.checkout.route(read, 0)), "a pinned session");
        } finally {
            read.release();
        }
    }

    @Test
    void sessionPoolingSendsReadsToThePrimary() throws Exception {
        start("pool: {mode: session}\n");
        ByteBuf read = queryMessage("SELECT 1");
        try {
            assertEquals(Target.PRIMARY, on(() -> session.checkout.route(read, 0)));
        } finally {
            read.release();
        }
    }

    // ---------------------------------------------------------------------------------------------- idle or wait

    @Test
    void anIdleConnectionIsTakenAtOnceWithoutOpeningAnother() throws Exception {
        start("");
        BackendConnection idle = on(() -> {
            BackendConnection only = primaryPool().pollIdle(loop);
            primaryPool().release(only); // peek: take it and put it back
            return only;
        });
        Object[] state = on(() -> {
            session.onClientFrames(queryMessage("INSERT INTO t VALUES (2)"));
            return new Object[] {session.checkout.isWaiting(), session.lease.backend()};
        });
        assertEquals(false, state[0], "nothing to wait for");
        assertSame(idle, state[1], "the pool's idle connection, in the same step");
        awaitClient('Z', "the write's answer");
        assertEquals(1, primaryServer.accepted(), "no second connection to the primary");
    }

    @Test
    void withNoIdleConnectionAndThePoolFullTheSessionWaitsForARelease() throws Exception {
        start("pool: {size: 1}\n");
        BackendConnection held = on(() -> primaryPool().pollIdle(loop)); // another client's transaction
        assertNotNull(held);
        Boolean waiting = on(() -> {
            session.onClientFrames(queryMessage("INSERT INTO t VALUES (3)"));
            return session.checkout.isWaiting();
        });
        assertTrue(waiting);
        assertEquals(1, primaryPool().waiting());
        assertNull(on(() -> session.lease.backend()));
        assertFalse(primaryServer.queries().contains("INSERT INTO t VALUES (3)"), "nothing sent while waiting");

        on(() -> {
            primaryPool().release(held);
            return null;
        });
        awaitClient('Z', "the write's answer once the connection was released");
        assertFalse(on(() -> session.checkout.isWaiting()));
        assertTrue(primaryServer.queries().contains("INSERT INTO t VALUES (3)"));
        assertEquals(1, primaryServer.accepted(), "the released connection, not a new one");
        assertEquals(0, primaryPool().waiting());
    }

    @Test
    void aPoolTimeoutEndsTheSessionWith53300() throws Exception {
        start("pool: {size: 1, checkout_timeout: 200ms}\n");
        BackendConnection held = on(() -> primaryPool().pollIdle(loop));
        assertNotNull(held);
        on(() -> {
            session.onClientFrames(queryMessage("INSERT INTO t VALUES (4)"));
            return null;
        });
        assertTrue(on(() -> session.checkout.isWaiting()));
        await(() -> {
            primaryPool().expireWaiters(); // what the registry's sweep does every 50 ms
            return clientClosed.isDone();
        }, "the session to end after checkout_timeout");
        List<Msg> out = clientMessages();
        assertEquals(1, out.size(), "one ErrorResponse, then the connection closes: " + out);
        Msg error = out.get(0);
        assertEquals('E', error.type());
        assertEquals("FATAL", error.field('S'));
        assertEquals("53300", error.field('C'));
        assertTrue(error.field('M').contains("checkout_timeout 200 ms"), error.field('M'));
        assertTrue(on(() -> session.isClosed()));
        assertFalse(primaryServer.queries().contains("INSERT INTO t VALUES (4)"));
        on(() -> {
            primaryPool().release(held);
            return null;
        });
        assertEquals(1, primaryPool().idleCount(), "the session that gave up does not take it later");
    }

    // ---------------------------------------------------------------------------------------------- refusing replicas

    @Test
    void aReplicaRefusingWith57P03IsBannedAndTheReadRunsOnAnotherUnseen() throws Exception {
        start("");
        replica1Server.refuseWith("57P03"); // "the database system is starting up"
        query("SELECT 1");
        awaitClient('Z', "the read's answer");
        assertEquals(List.of('C', 'Z'), types(clientMessages()), "no error reaches the client");
        assertEquals(1, replica1Server.accepted(), "the first replica was tried");
        assertTrue(node(replica1Server).isBanned(), "and banned");
        assertTrue(replica2Server.queries().contains("SELECT 1"), "the read ran on the second replica");
        assertFalse(node(replica2Server).isBanned());
        assertFalse(on(() -> session.isClosed()));

        clearClientOutput();
        query("SELECT 2");
        awaitClient('Z', "the next read's answer");
        assertEquals(1, replica1Server.accepted(), "no reads for a banned replica");
        assertTrue(replica2Server.queries().contains("SELECT 2"));
    }

    @Test
    void anUnreachableReplicaIsBannedAndTheReadRunsOnAnother() throws Exception {
        start("");
        replica1Server.close(); // connection refused
        // two reads: ties between the replicas go to the one that served fewer, so the second read at the latest
        // tries the dead replica, whichever of the two the first read picked
        query("SELECT 1");
        awaitClient('Z', "the first read's answer");
        query("SELECT 2");
        await(() -> types(clientMessages()).size() == 4, "the second read's answer");
        assertEquals(List.of('C', 'Z', 'C', 'Z'), types(clientMessages()));
        assertTrue(node(replica1Server).isBanned(), "replica 1 (" + replica1Server.port() + ") banned; replica 2 ("
                + replica2Server.port() + ") ran " + replica2Server.queries() + ", the primary ran "
                + primaryServer.queries() + ", replica 1 accepted " + replica1Server.accepted());
        assertTrue(replica2Server.queries().containsAll(List.of("SELECT 1", "SELECT 2")), "both reads ran on the live"
                + " replica: " + replica2Server.queries());
    }

    @Test
    void withEveryReplicaRefusingTheReadFallsBackToThePrimary() throws Exception {
        start("routing: {primary_reads: fallback}\n");
        replica1Server.refuseWith("57P01");
        replica2Server.refuseWith("57P03");
        query("SELECT 1");
        awaitClient('Z', "the read's answer");
        assertEquals(List.of('C', 'Z'), types(clientMessages()));
        assertTrue(node(replica1Server).isBanned());
        assertTrue(node(replica2Server).isBanned());
        assertTrue(primaryServer.queries().contains("SELECT 1"));
    }

    @Test
    void withEveryReplicaRefusingAndPrimaryReadsNeverTheSessionEnds() throws Exception {
        start("routing: {primary_reads: never}\n");
        replica1Server.refuseWith("57P03");
        replica2Server.refuseWith("57P03");
        query("SELECT 1");
        await(clientClosed::isDone, "the session to end");
        List<Msg> out = clientMessages();
        assertEquals(List.of('E'), types(out));
        assertEquals("08006", out.get(0).field('C'));
        assertTrue(out.get(0).field('M').contains("no replica is available"), out.get(0).field('M'));
        assertFalse(primaryServer.queries().contains("SELECT 1"));
    }

    @Test
    void aWriteWhileThePrimaryRestartsWaitsForItAndRunsOnceItAcceptsAgain() throws Exception {
        start("");
        primaryServer.refuseWith("57P03"); // "the database system is starting up"
        primaryServer.dropAll();
        await(() -> primaryPool().total() == 0, "the pool to see its connection dropped");
        query("INSERT INTO t VALUES (1)");
        await(() -> primaryServer.accepted() >= 3, "the write to try the primary twice (refused, then again)");
        assertEquals(List.of(), clientMessages(), "the client sees nothing while the write waits");
        assertFalse(clientClosed.isDone(), "the session waits, it is not ended");
        primaryServer.refuseWith(null);
        awaitClient('Z', "the write's answer once the primary accepts again");
        assertEquals(List.of('C', 'Z'), types(clientMessages()));
        assertTrue(primaryServer.queries().contains("INSERT INTO t VALUES (1)"));
    }

    @Test
    void aWriteWithThePrimaryRefusingBeyondPrimaryWaitEndsWith08006NamingTheReason() throws Exception {
        start("routing: {primary_wait: 300ms}\n");
        primaryServer.refuseWith("57P03");
        primaryServer.dropAll();
        await(() -> primaryPool().total() == 0, "the pool to see its connection dropped");
        query("INSERT INTO t VALUES (1)");
        await(clientClosed::isDone, "the session to end after routing.primary_wait");
        List<Msg> out = clientMessages();
        assertEquals(List.of('E'), types(out));
        assertEquals("08006", out.get(0).field('C'));
        String message = out.get(0).field('M');
        assertTrue(message.startsWith("pgbalancer: no primary within routing.primary_wait (300 ms): the primary 127.0.0.1:"
                + primaryServer.port() + " refused connections"), message);
        assertTrue(message.endsWith("; reads still run on the replicas"), message);
    }

    @Test
    void aReplicaRefusingTheLoginForAnotherReasonEndsTheSessionWithItsError() throws Exception {
        start("");
        replica1Server.refuseWith("28P01");
        query("SELECT 1");
        await(clientClosed::isDone, "the session to end");
        List<Msg> out = clientMessages();
        assertEquals(List.of('E'), types(out));
        assertEquals("28P01", out.get(0).field('C'), "the server's own SQLSTATE");
        assertTrue(out.get(0).field('M').contains("fake server refuses logins"), out.get(0).field('M'));
        assertFalse(node(replica1Server).isBanned(), "not a refusal of the 57 class: no ban");
        assertEquals(0, replica2Server.accepted(), "and no retry elsewhere");
    }

    // ---------------------------------------------------------------------------------------------- settings only

    @Test
    void aSettingsOnlyCycleRunsOnThePrimaryWhileItTakesConnections() throws Exception {
        start("");
        query("SET application_name = 'PostgreSQL JDBC Driver'");
        awaitClient('Z', "the SET's answer");
        assertTrue(primaryServer.queries().contains("SET application_name = 'PostgreSQL JDBC Driver'"),
                "with a primary, a SET keeps running there: " + primaryServer.queries());
        assertFalse(ranOnAReplica("SET application_name = 'PostgreSQL JDBC Driver'"));

        clearClientOutput();
        on(() -> {
            session.onClientFrames(pipelined("SELECT 1", "SET extra_float_digits = 3"));
            return null;
        });
        await(() -> types(clientMessages()).size() == 4, "both answers");
        assertTrue(ranOnAReplica("SELECT 1"));
        assertTrue(primaryServer.queries().contains("SET extra_float_digits = 3"),
                "pipelined behind a read, it still leaves the replica for the primary");
        assertFalse(ranOnAReplica("SET extra_float_digits = 3"));
    }

    @Test
    void aSettingsOnlyCycleWhileThePrimaryRefusesRunsOnAReplicaWithoutWaiting() throws Exception {
        // pgjdbc 42.7.5+ sends SET application_name right after login: during a failover it must not wait for a primary
        start("routing: {primary_wait: 60s}\n");
        primaryServer.refuseWith("57P03");
        primaryServer.dropAll();
        await(() -> primaryPool().total() == 0, "the pool to see its connection dropped");
        String set = "SET application_name = 'PostgreSQL JDBC Driver'";
        query(set);
        awaitClient('Z', "the SET's answer from a replica, long before routing.primary_wait");
        assertEquals(List.of('C', 'Z'), types(clientMessages()), "no error reaches the client");
        assertTrue(ranOnAReplica(set), "the SET ran on a replica: " + replica1Server.queries() + " "
                + replica2Server.queries());
        assertFalse(primaryServer.queries().contains(set));
        assertFalse(clientClosed.isDone());

        clearClientOutput();
        query("SELECT 1");
        awaitClient('Z', "a read after it");
        assertEquals(List.of('C', 'Z'), types(clientMessages()));
    }

    @Test
    void settingsOnlyCyclesWithNoPrimaryRunOnAReplicaAlsoPipelinedBehindARead() throws Exception {
        start("routing: {primary_wait: 60s}\n");
        noPrimary();
        query("SET search_path = app, public; RESET statement_timeout");
        awaitClient('Z', "the SETs' answer from a replica");
        assertEquals(List.of('C', 'Z'), types(clientMessages()));
        assertTrue(ranOnAReplica("SET search_path = app, public; RESET statement_timeout"));

        clearClientOutput();
        on(() -> {
            session.onClientFrames(pipelined("SELECT 1", "SET extra_float_digits = 3"));
            return null;
        });
        await(() -> types(clientMessages()).size() == 4, "both answers");
        assertEquals(List.of('C', 'Z', 'C', 'Z'), types(clientMessages()));
        assertTrue(ranOnAReplica("SET extra_float_digits = 3"));
        assertFalse(primaryServer.queries().contains("SET extra_float_digits = 3"));
    }

    @Test
    void aSetThatAStandbyRejectsStillWaitsForThePrimary() throws Exception {
        start("routing: {primary_wait: 60s}\n");
        noPrimary();
        // a standby answers 0A000 to these (read-write mode, serializable): they keep needing the primary
        query("SET transaction_read_only = off");
        await(() -> {
            try {
                return on(() -> session.checkout.isWaiting());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "the SET to wait for a primary");
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
        assertEquals(List.of(), clientMessages(), "nothing while it waits");
        assertFalse(ranOnAReplica("SET transaction_read_only = off"));
        BackendNode p = node(primaryServer);
        p.status(BackendStatus.UNKNOWN);
        router.refreshRoles(); // the primary is back
        awaitClient('Z', "the SET's answer from the primary");
        assertTrue(primaryServer.queries().contains("SET transaction_read_only = off"));
    }

    // ---------------------------------------------------------------------------------------------- helpers

    /** As in a failover before a replica is promoted: the primary is seen in recovery, the topology has none. */
    private void noPrimary() {
        BackendNode p = router.primary();
        p.status(new BackendStatus(true, true, 0, 0, -1, 0, 0, System.nanoTime(), System.currentTimeMillis(), null));
        router.refreshRoles();
        assertNull(router.primary());
    }

    private boolean ranOnAReplica(String sql) {
        return replica1Server.queries().contains(sql) || replica2Server.queries().contains(sql);
    }

    private BackendPool primaryPool() {
        return pools.pool(router.primary(), "app", "db");
    }

    private BackendNode node(FakePostgres server) {
        return router.nodes().stream().filter(n -> n.backend().port() == server.port()).findFirst().orElseThrow();
    }

    /** Runs {@code task} on the session's event loop and returns its result. */
    private <T> T on(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private void query(String sql) throws Exception {
        on(() -> {
            session.onClientFrames(queryMessage(sql));
            return null;
        });
    }

    /** Several Query messages in one chunk, as a pipelining client sends them. */
    private static ByteBuf pipelined(String... sqls) {
        ByteBuf all = Unpooled.buffer();
        for (String sql : sqls) {
            ByteBuf one = queryMessage(sql);
            all.writeBytes(one);
            one.release();
        }
        return all;
    }

    private static ByteBuf queryMessage(String sql) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer();
        b.writeByte('Q').writeInt(4 + text.length + 1).writeBytes(text).writeByte(0);
        return b;
    }

    /**
     * A loopback socket pair on the loop (the transport's own channels: Netty 4.2's native loops host no local
     * channels): the session gets one end, the test reads the other.
     */
    private Channel connectLocalClient() throws Exception {
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        listener = new ServerBootstrap().group(loop).channel(Transport.serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.complete(ch);
                    }
                }).bind(new java.net.InetSocketAddress("127.0.0.1", 0)).sync().channel();
        java.net.SocketAddress address = listener.localAddress();
        peer = new Bootstrap().group(loop).channel(Transport.channel())
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        synchronized (fromSession) {
                            fromSession.writeBytes(b);
                        }
                        b.release();
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        clientClosed.complete(null);
                    }
                }).connect(address).sync().channel();
        return accepted.get(5, TimeUnit.SECONDS);
    }

    record Msg(char type, byte[] body) {
        /** An ErrorResponse field by its type code. */
        String field(char code) {
            int at = 0;
            while (at < body.length && body[at] != 0) {
                int end = at + 1;
                while (body[end] != 0) {
                    end++;
                }
                if (body[at] == code) {
                    return new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8);
                }
                at = end + 1;
            }
            return null;
        }
    }

    /** Every complete message the session has sent its client since the last clear. */
    private List<Msg> clientMessages() {
        synchronized (fromSession) {
            List<Msg> out = new ArrayList<>();
            int at = fromSession.readerIndex();
            while (fromSession.writerIndex() - at >= 5) {
                int len = fromSession.getInt(at + 1);
                if (fromSession.writerIndex() - at < len + 1) {
                    break;
                }
                byte[] body = new byte[len - 4];
                fromSession.getBytes(at + 5, body);
                out.add(new Msg((char) fromSession.getByte(at), body));
                at += len + 1;
            }
            return out;
        }
    }

    private void clearClientOutput() {
        synchronized (fromSession) {
            fromSession.clear();
        }
    }

    private static List<Character> types(List<Msg> messages) {
        return messages.stream().map(Msg::type).toList();
    }

    private void awaitClient(char type, String what) {
        try {
            await(() -> clientMessages().stream().anyMatch(m -> m.type() == type), what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (the client got " + types(clientMessages()) + ")", e);
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        Await.until(condition, what);
    }
}

// Tests the admin console on the wire: the greeting, simple queries with several commands, empty queries, errors,
// the extended protocol refused until Sync, and Terminate.
package io.pgbalancer.admin;

import static io.pgbalancer.session.TestWire.drain;
import static io.pgbalancer.session.TestWire.messages;
import static io.pgbalancer.session.TestWire.types;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.pool.PoolRegistry;
import io.pgbalancer.pool.PoolSettings;
import io.pgbalancer.routing.Router;
import io.pgbalancer.session.SessionServices;
import io.pgbalancer.session.SessionTracker;
import io.pgbalancer.session.TestWire.Msg;
import io.pgbalancer.session.TestWire.Msgs;
import io.pgbalancer.sql.StatementClassifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminSessionTest {
    private DefaultEventLoopGroup sweeper;
    private EmbeddedChannel client;
    private AdminSession session;

    @BeforeEach
    void setUp() throws Exception {
        PgBalancerConfig config = ConfigLoader.parse("""
                auth: {users: [{name: ops, password: x}]}
                backends:
                  - {host: db0, port: 5432, role: primary}
                admin: {users: [ops]}
                """, Map.of(), "test");
        sweeper = new DefaultEventLoopGroup(1);
        SessionServices services = new SessionServices(config,
                new PoolRegistry(PoolSettings.from(config.pool()), user -> "x", sweeper),
                new StatementClassifier(Set.of(), 100), new CancelRegistry(), new SessionTracker(),
                new Router(config));
        client = new EmbeddedChannel();
        session = new AdminSession(client, services, "ops", "psql", new io.pgbalancer.admin.ProxyControl() {
            @Override
            public void shutdown() {
            }

            @Override
            public io.pgbalancer.reload.ConfigReloader.Outcome reload(String trigger) {
                return new io.pgbalancer.reload.ConfigReloader.Outcome(false, "no file in this test");
            }
        });
    }

    @AfterEach
    void tearDown() {
        client.finishAndReleaseAll();
        sweeper.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    private List<Msg> send(Msgs msgs) {
        session.onClientFrames(msgs.buf);
        return messages(drain(client));
    }

    private static String parameter(List<Msg> msgs, String name) {
        return msgs.stream().filter(m -> m.type() == 'S' && m.cstring(0).equals(name)).findFirst().orElseThrow()
                .cstring(name.length() + 1);
    }

    /** The M field of an ErrorResponse. */
    private static String field(Msg error, char code) {
        int at = 0;
        while (error.body()[at] != 0) {
            char c = (char) error.body()[at];
            String v = error.cstring(at + 1);
            if (c == code) {
                return v;
            }
            at += 1 + v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
        }
        return null;
    }

    @Test
    void greetsLikeAServer() {
        session.start();
        List<Msg> msgs = messages(drain(client));
        assertEquals('K', msgs.get(msgs.size() - 2).type());
        assertEquals('Z', msgs.get(msgs.size() - 1).type());
        assertEquals("15.0 (pgbalancer)", parameter(msgs, "server_version"));
        assertEquals("UTF8", parameter(msgs, "client_encoding"));
        assertEquals("on", parameter(msgs, "standard_conforming_strings"));
        assertEquals("psql", parameter(msgs, "application_name"));
    }

    @Test
    void severalCommandsInOneQueryEachAnswer() {
        List<Msg> msgs = send(new Msgs().query("show version; SHOW HELP;"));
        assertEquals(List.of('T', 'D', 'C', 'T'), types(msgs).subList(0, 4));
        assertEquals("SHOW", msgs.get(2).cstring(0));
        assertEquals('Z', msgs.get(msgs.size() - 1).type());
        assertEquals(2, msgs.stream().filter(m -> m.type() == 'C').count());
    }

    @Test
    void emptyQueryAnswersEmptyQueryResponse() {
        assertEquals(List.of('I', 'Z'), types(send(new Msgs().query(" ; "))));
    }

    @Test
    void anErrorEndsTheQueryString() {
        List<Msg> msgs = send(new Msgs().query("SHOW VERSION; nonsense; SHOW HELP"));
        assertEquals(List.of('T', 'D', 'C', 'E', 'Z'), types(msgs));
        assertEquals("42601", field(msgs.get(3), 'C'));
        assertEquals("unknown admin command \"nonsense\"; try SHOW HELP", field(msgs.get(3), 'M'));
    }

    @Test
    void extendedProtocolIsRefusedUntilSync() {
        List<Msg> msgs = send(new Msgs().parse("", "SHOW POOLS").bind("").execute().sync()
                .query("SHOW VERSION"));
        assertEquals(List.of('E', 'Z', 'T', 'D', 'C', 'Z'), types(msgs));
        assertEquals("0A000", field(msgs.get(0), 'C'));
        assertEquals(AdminSession.SIMPLE_ONLY, field(msgs.get(0), 'M'));
    }

    @Test
    void terminateCloses() {
        assertTrue(client.isOpen());
        send(new Msgs().msg('X').query("SHOW VERSION"));
        assertFalse(client.isOpen());
    }

    /**
     * Found by fuzzing: a Query without its terminator after one that was answered: the protocol error ended the
     * connection (the handler's job), but the reply buffer already holding the first answer was never released.
     */
    @Test
    void aMalformedQueryReleasesTheRepliesBuiltSoFar() {
        io.pgbalancer.fuzz.TrackingAllocator alloc = new io.pgbalancer.fuzz.TrackingAllocator();
        client.config().setAllocator(alloc);
        Msgs in = new Msgs().query("SHOW VERSION");
        in.buf.writeByte('Q').writeInt(4 + 4).writeBytes("SHOW".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        org.junit.jupiter.api.Assertions.assertThrows(io.pgbalancer.protocol.ProtocolException.class,
                () -> session.onClientFrames(in.buf));
        assertEquals(1, alloc.count(), "one reply buffer");
        org.junit.jupiter.api.Assertions.assertNull(alloc.unreleased(), "the reply buffer leaked");
        assertEquals(0, in.buf.refCnt(), "the client's messages leaked");
    }
}

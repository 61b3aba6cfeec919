// ProxyContext.apply on reload: users and passwords, pool settings, retired servers' pools, per-server pool caps.
package io.pgbalancer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** No server is contacted: pools are created but never asked for a connection. */
class ProxyContextReloadTest {
    private static final String START = """
            auth: {users: [{name: app, password: s3cret}, {name: ops, password: 0ps}]}
            pool: {size: 10}
            backends:
              - {host: db0, port: 5432, role: primary}
              - {host: db1, port: 5433, role: replica}
              - {host: db2, port: 5434, role: replica}
            """;

    private DefaultEventLoopGroup group;
    private ProxyContext context;

    private static PgBalancerConfig config(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, Map.of(), "test");
    }

    @BeforeEach
    void setUp() throws Exception {
        group = new DefaultEventLoopGroup(1);
        context = new ProxyContext(config(START), group);
    }

    @AfterEach
    void tearDown() {
        context.pools().close();
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    private Router router() {
        return context.sessionServices().router();
    }

    @Test
    void usersPoolSizesAndServersAreAppliedTogether() throws Exception {
        var appScram = context.users().find("app").scram();
        BackendNode db1 = router().node("db1:5433");
        BackendNode db2 = router().node("db2:5434");
        BackendPool db1Pool = context.pools().pool(db1, "app", "db");
        BackendPool db2Pool = context.pools().pool(db2, "app", "db");

        Router.TopologyChange change = context.apply(config("""
                auth: {users: [{name: app, password: s3cret}, {name: ops, password: n3w}]}
                pool: {size: 25}
                backends:
                  - {host: db0, port: 5432, role: primary}
                  - {host: db1, port: 5433, role: replica}
                  - {host: db3, port: 5435, role: replica}
                """));

        assertSame(appScram, context.users().find("app").scram(), "an unchanged password keeps its credentials");
        assertEquals("n3w", context.users().password("ops"));
        assertEquals(25, db1Pool.settings().size(), "the kept server's pool takes the new size");
        assertEquals(List.of(db2), change.removed());
        assertTrue(db2.isRetired());
        assertTrue(db2Pool.isDrained(), "the removed server's pool was retired (it had no connection)");
        assertFalse(db1Pool.isDrained());
        assertNull(router().node("db2:5434"));
        BackendPool db3Pool = context.pools().pool(router().node("db3:5435"), "app", "db");
        assertEquals(25, db3Pool.settings().size());
        assertNotSame(db2Pool, db3Pool);
    }

    /**
     * Fails: ProxyContext.apply reconfigures the pools (which cap each pool by its node's max_connections) before
     * Router.apply updates the nodes' Backend entries, so existing pools are capped by the previous max_connections
     * until the next reload, while pools created after the reload use the new one.
     */
    @Test
    void aNewMaxConnectionsCapsTheServersExistingPools() throws Exception {
        BackendPool db1Pool = context.pools().pool(router().node("db1:5433"), "app", "db");
        assertEquals(10, db1Pool.settings().size());

        context.apply(config(START.replace("port: 5433, role: replica",
                "port: 5433, role: replica, max_connections: 3")));

        assertEquals(3, router().node("db1:5433").backend().maxConnections());
        assertEquals(3, context.pools().pool(router().node("db1:5433"), "ops", "db").settings().size(),
                "a pool created after the reload is capped");
        assertEquals(3, db1Pool.settings().size(), "the existing pool is capped by the new max_connections");
    }
}

// The pool against a loopback fake server: idle take/release, size cap, FIFO waiters, checkout timeout, broken
// connections, idle timeout and max lifetime, failed opens and close.
package io.pgbalancer.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Role;
import io.pgbalancer.net.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connections are real: the pool opens them over loopback TCP on a Netty event loop to a {@link FakePostgres} that
 * logs them in (trust), so opening, login, closing from either side and Terminate at close all run as in production.
 */
class BackendPoolTest {
    private static final Duration LONG = Duration.ofHours(1);
    private static final Duration NONE = Duration.ZERO;

    private FakePostgres server;
    private EventLoopGroup group;
    private EventLoop loop;
    private EventLoop otherLoop;
    private final List<BackendPool> pools = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        server = new FakePostgres();
        group = Transport.group(2, "pool-test");
        loop = group.next();
        otherLoop = group.next();
        assertNotEquals(loop, otherLoop);
    }

    @AfterEach
    void tearDown() throws Exception {
        pools.forEach(BackendPool::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        server.close();
    }

    private BackendPool pool(int size, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime) {
        Backend backend = new Backend("127.0.0.1", server.port(), Role.PRIMARY, 1, null);
        BackendPool p = new BackendPool(new PoolKey(new io.pgbalancer.routing.BackendNode(backend), "app", "db"),
                new PoolSettings(size, checkoutTimeout, idleTimeout, maxLifetime, Duration.ofSeconds(5)), "secret");
        pools.add(p);
        return p;
    }

    private BackendPool pool(int size) {
        return pool(size, Duration.ofSeconds(30), LONG, LONG);
    }

    // ---------------------------------------------------------------------------------------------- take and release

    @Test
    void acquireOpensALoggedInConnectionAndReleaseKeepsItForTheNextTaker() throws Exception {
        BackendPool p = pool(4);
        assertNull(p.pollIdle(loop), "nothing idle in a new pool");
        BackendConnection c = get(p.acquire(loop));
        assertTrue(c.channel().isActive());
        assertSame(loop, c.channel().eventLoop(), "opened on the loop of the client that asked");
        assertSame(p, c.pool());
        assertTrue(c.processId() >= 1000, "the BackendKeyData of the login: " + c.processId());
        assertEquals("15.0", c.reportedParameters().get("server_version"));
        assertEquals(1, p.total());
        assertEquals(0, p.idleCount());

        p.release(c);
        assertEquals(1, p.idleCount());
        assertSame(c, p.pollIdle(loop), "the released connection is taken again");
        assertEquals(0, p.idleCount());
        p.release(c);
        assertSame(c, get(p.acquire(loop)), "acquire takes an idle connection before opening one");
        assertEquals(1, server.accepted(), "one server connection for all of that");
        assertEquals(1, p.total());
    }

    /** Cancels for one connection: one on its way at a time, and its release waits until that one has landed. */
    @Test
    void aCancelInFlightMergesTheNextAndHoldsTheRelease() throws Exception {
        BackendPool p = pool(4);
        BackendConnection c = get(p.acquire(loop));
        assertTrue(c.cancelStarted(), "the first cancel goes");
        assertFalse(c.cancelStarted(), "a second one while the first is on its way is merged into it");
        assertFalse(c.mayReleaseNow(), "not given to another client while a cancel may still land");
        assertTrue(c.cancelFinished(), "the held release happens once the cancel has landed");
        assertTrue(c.cancelStarted(), "after that a new cancel goes again");
        assertFalse(c.cancelFinished(), "no release was held for this one");
        assertTrue(c.mayReleaseNow());
        c.markBroken(); // what a cancel that timed out leaves: it may land later, on anyone's query
        p.release(c);
        assertEquals(0, p.idleCount(), "a broken connection is closed, not kept for the next taker");
    }

    @Test
    void theMostRecentlyReleasedConnectionOnTheCallersLoopIsTakenFirst() throws Exception {
        BackendPool p = pool(4);
        BackendConnection a = get(p.acquire(loop));
        BackendConnection b = get(p.acquire(loop));
        BackendConnection other = get(p.acquire(otherLoop));
        assertSame(otherLoop, other.channel().eventLoop());
        p.release(a);
        p.release(b);
        p.release(other);
        assertSame(b, p.pollIdle(loop), "same loop, most recently used first (other was released last)");
        assertSame(a, p.pollIdle(loop));
        assertSame(other, p.pollIdle(loop), "another loop's connection when the caller's loop has none");
        assertNull(p.pollIdle(loop));
    }

    @Test
    void newConnectionsSpreadOverTheLoopsOnceTheRequestersLoopHasItsShare() throws Exception {
        BackendPool p = pool(4); // 2 loops: a share of 2 each
        List<BackendConnection> opened = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            opened.add(get(p.acquire(loop)));
        }
        long onLoop = opened.stream().filter(c -> c.channel().eventLoop() == loop).count();
        assertEquals(2, onLoop, "the requester's loop gets its share, the rest open on the other loop");
        assertEquals(2, opened.stream().filter(c -> c.channel().eventLoop() == otherLoop).count());
        opened.forEach(p::release);
    }

    // ---------------------------------------------------------------------------------------------- size and waiters

    @Test
    void thePoolNeverOpensMoreThanItsSizeAndQueuesTheRest() throws Exception {
        BackendPool p = pool(2);
        BackendConnection a = get(p.acquire(loop));
        BackendConnection b = get(p.acquire(loop));
        Future<BackendConnection> third = p.acquire(loop);
        assertEquals(2, p.total());
        assertEquals(1, p.waiting());
        assertFalse(third.isDone());
        assertEquals(2, server.accepted(), "no third connection was opened");
        p.release(b);
        assertSame(b, get(third), "a released connection goes straight to the waiter");
        assertEquals(0, p.waiting());
        assertEquals(0, p.idleCount());
        p.release(a);
        assertEquals(1, p.idleCount());
    }

    @Test
    void waitersOnOneLoopAreServedInArrivalOrder() throws Exception {
        BackendPool p = pool(1);
        BackendConnection c = get(p.acquire(loop));
        List<Future<BackendConnection>> waiters = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            waiters.add(p.acquire(loop));
        }
        assertEquals(4, p.waiting());
        for (int i = 0; i < 4; i++) {
            p.release(c);
            c = get(waiters.get(i));
            for (int later = i + 1; later < 4; later++) {
                assertFalse(waiters.get(later).isDone(), "waiter " + later + " served before waiter " + i);
            }
        }
        assertEquals(1, server.accepted(), "one connection handed from waiter to waiter");
    }

    // ---------------------------------------------------------------------------------------------- checkout timeout

    @Test
    void aWaiterPastCheckoutTimeoutFailsWithPoolTimeoutException() throws Exception {
        BackendPool p = pool(1, Duration.ofMillis(200), LONG, LONG);
        BackendConnection c = get(p.acquire(loop));
        long t0 = System.nanoTime();
        Future<BackendConnection> waiter = p.acquire(loop);
        p.expireWaiters();
        if (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(200)) {
            assertFalse(waiter.isDone(), "expired before its checkout_timeout");
        }
        await(() -> {
            p.expireWaiters(); // what the registry's periodic sweep does
            return waiter.isDone();
        }, "the waiter to expire");
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(200), "expired early");
        PoolTimeoutException e = assertInstanceOf(PoolTimeoutException.class, waiter.cause());
        assertTrue(e.getMessage().contains("checkout_timeout 200 ms"), e.getMessage());
        assertTrue(e.getMessage().contains("app@db on primary 127.0.0.1:" + server.port()), e.getMessage());
        assertTrue(e.getMessage().contains("size 1"), e.getMessage());
        assertEquals(0, p.waiting());

        p.release(c);
        assertEquals(1, p.idleCount(), "the expired waiter does not take the connection released later");
    }

    @Test
    void onlyExpiredWaitersAreFailedTheYoungerOnesKeepTheirPlace() throws Exception {
        BackendPool p = pool(1, Duration.ofMillis(300), LONG, LONG);
        BackendConnection c = get(p.acquire(loop));
        Future<BackendConnection> old = p.acquire(loop);
        await(() -> {
            p.expireWaiters();
            return old.isDone();
        }, "the first waiter to expire");
        Future<BackendConnection> young = p.acquire(loop);
        p.expireWaiters();
        assertFalse(young.isDone(), "a waiter that just arrived is not expired with the old one");
        assertEquals(1, p.waiting());
        p.release(c);
        assertSame(c, get(young));
    }

    // ---------------------------------------------------------------------------------------------- broken connections

    @Test
    void aBrokenConnectionIsClosedInsteadOfReused() throws Exception {
        BackendPool p = pool(2);
        BackendConnection c = get(p.acquire(loop));
        c.markBroken();
        p.release(c);
        assertEquals(0, p.idleCount());
        await(() -> !c.channel().isActive() && p.total() == 0, "the broken connection to close and leave the pool");
        await(() -> server.open() == 0, "the server to see it closed");
        BackendConnection fresh = get(p.acquire(loop));
        assertNotSame(c, fresh);
        assertEquals(2, server.accepted(), "a new server connection replaced it");
    }

    @Test
    void aBrokenConnectionReleasedWhileSomeoneWaitsMakesRoomForANewOne() throws Exception {
        BackendPool p = pool(1);
        BackendConnection c = get(p.acquire(loop));
        Future<BackendConnection> waiter = p.acquire(loop);
        c.markBroken();
        p.release(c);
        BackendConnection fresh = get(waiter);
        assertNotSame(c, fresh, "the waiter never gets the broken connection");
        assertTrue(fresh.channel().isActive());
        assertEquals(2, server.accepted());
        assertEquals(1, p.total());
    }

    @Test
    void aConnectionTheServerClosesWhileIdleLeavesThePool() throws Exception {
        BackendPool p = pool(2);
        BackendConnection c = get(p.acquire(loop));
        p.release(c);
        server.dropAll();
        await(() -> p.idleCount() == 0 && p.total() == 0, "the dead idle connection to leave the pool");
        assertTrue(c.isBroken());
        assertNull(p.pollIdle(loop));
        assertTrue(get(p.acquire(loop)).channel().isActive());
    }

    // ---------------------------------------------------------------------------------------------- eviction

    @Test
    void idleTimeoutClosesConnectionsIdleLongerThanIt() throws Exception {
        BackendPool p = pool(2, Duration.ofSeconds(30), Duration.ofMinutes(10), LONG);
        BackendConnection c = get(p.acquire(loop));
        BackendConnection busy = get(p.acquire(loop));
        p.release(c);
        c.idleSinceNanos = System.nanoTime() - Duration.ofMinutes(9).toNanos();
        p.evict();
        assertEquals(1, p.idleCount(), "idle 9 of 10 minutes: kept");
        c.idleSinceNanos = System.nanoTime() - Duration.ofMinutes(11).toNanos();
        busy.idleSinceNanos = c.idleSinceNanos; // in use: an old idle-since mark does not matter
        p.evict();
        assertEquals(0, p.idleCount(), "idle 11 of 10 minutes: evicted");
        await(() -> !c.channel().isActive() && p.total() == 1, "the evicted connection to close");
        await(() -> server.open() == 1, "the server to see it closed");
        assertTrue(busy.channel().isActive(), "eviction never touches a connection in use");
    }

    @Test
    void zeroIdleTimeoutAndMaxLifetimeNeverEvict() throws Exception {
        BackendPool p = pool(2, Duration.ofSeconds(30), NONE, NONE);
        BackendConnection c = get(p.acquire(loop));
        p.release(c);
        c.idleSinceNanos = System.nanoTime() - Duration.ofDays(100).toNanos();
        p.evict();
        assertEquals(1, p.idleCount());
        assertSame(c, p.pollIdle(loop));
        assertTrue(c.channel().isActive());
    }

    @Test
    void aConnectionPastMaxLifetimeIsClosedAtReleaseInsteadOfPooled() throws Exception {
        BackendPool p = pool(2, Duration.ofSeconds(30), LONG, Duration.ofMillis(300));
        BackendConnection c = get(p.acquire(loop));
        await(() -> c.ageNanos() > TimeUnit.MILLISECONDS.toNanos(300), "the connection to pass max_lifetime in use");
        assertTrue(c.channel().isActive(), "max_lifetime never closes a connection in use");
        p.release(c);
        assertEquals(0, p.idleCount());
        await(() -> !c.channel().isActive() && p.total() == 0, "the expired connection to close");
        assertNotSame(c, get(p.acquire(loop)), "the next taker gets a new connection");
    }

    @Test
    void aMaxLifetimeShorterThanALoginStillHandsOutTheNewConnection() throws Exception {
        BackendPool p = pool(2, Duration.ofSeconds(30), LONG, Duration.ofMillis(1));
        BackendConnection c = get(p.acquire(loop));
        assertTrue(c.channel().isActive());
        assertEquals(1, server.accepted(), "the new connection is handed out, not closed and opened again");
        await(() -> c.ageNanos() > TimeUnit.MILLISECONDS.toNanos(1), "the connection to pass max_lifetime in use");
        p.release(c);
        await(() -> !c.channel().isActive(), "the used connection past max_lifetime to close at release");
    }

    @Test
    void maxLifetimeEvictsIdleConnectionsOnceTheyAreOldEnough() throws Exception {
        BackendPool p = pool(2, Duration.ofSeconds(30), NONE, Duration.ofMillis(500));
        BackendConnection c = get(p.acquire(loop));
        p.release(c);
        if (c.ageNanos() < TimeUnit.MILLISECONDS.toNanos(400)) {
            assertEquals(1, p.idleCount(), "a young connection goes back to the pool");
            p.evict();
            if (c.ageNanos() < TimeUnit.MILLISECONDS.toNanos(500)) {
                assertEquals(1, p.idleCount(), "evicted before max_lifetime");
            }
        }
        await(() -> {
            p.evict();
            return p.idleCount() == 0;
        }, "max_lifetime eviction");
        assertTrue(c.ageNanos() >= TimeUnit.MILLISECONDS.toNanos(500));
        await(() -> !c.channel().isActive(), "the old connection to close");
    }

    // ---------------------------------------------------------------------------------------------- failures and close

    @Test
    void aRefusedOpenFailsItsWaiterAndGivesItsPlaceBack() throws Exception {
        BackendPool p = pool(1);
        server.refuseWith("57P03");
        Future<BackendConnection> first = p.acquire(loop);
        Future<BackendConnection> second = p.acquire(loop);
        awaitDone(first);
        BackendLoginException e = assertInstanceOf(BackendLoginException.class, first.cause());
        assertNotNull(e.serverError(), "the server's own error is kept");
        assertEquals("57P03", e.serverError().sqlState());
        awaitDone(second);
        assertInstanceOf(BackendLoginException.class, second.cause(), "the second waiter got its own attempt");
        assertEquals(2, server.accepted());
        assertEquals(0, p.total(), "failed opens do not use up the pool");
        assertEquals(0, p.waiting());

        server.refuseWith(null);
        assertTrue(get(p.acquire(loop)).channel().isActive(), "the pool works again once the server does");
    }

    @Test
    void closeFailsWaitersAndTerminatesConnectionsInUse() throws Exception {
        BackendPool p = pool(2);
        BackendConnection a = get(p.acquire(loop));
        BackendConnection b = get(p.acquire(loop));
        Future<BackendConnection> waiter = p.acquire(loop);
        assertEquals(1, p.waiting());

        p.close();
        awaitDone(waiter);
        BackendLoginException e = assertInstanceOf(BackendLoginException.class, waiter.cause());
        assertTrue(e.getMessage().contains("shutting down"), e.getMessage());
        assertEquals(0, p.waiting());
        await(() -> server.terminated() == 2, "a Terminate on both connections in use");
        await(() -> !a.channel().isActive() && !b.channel().isActive(), "both connections to close");
        p.release(a); // its client finishing late
        assertEquals(0, p.idleCount());
        assertNull(p.pollIdle(loop));
    }

    @Test
    void closeTerminatesIdleConnectionsAndRefusesNewWork() throws Exception {
        BackendPool p = pool(2);
        BackendConnection idle = get(p.acquire(loop));
        p.release(idle);
        p.close();
        assertEquals(0, p.idleCount());
        assertNull(p.pollIdle(loop));
        await(() -> server.terminated() == 1, "a Terminate on the idle connection");
        await(() -> !idle.channel().isActive(), "the idle connection to close");
        Future<BackendConnection> after = p.acquire(loop);
        assertTrue(after.isDone() && !after.isSuccess(), "a closed pool fails acquire at once");
        assertTrue(after.cause().getMessage().contains("is closed"), after.cause().getMessage());
        assertEquals(1, server.accepted(), "and opens nothing");
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static <T> T get(Future<T> f) throws Exception {
        assertTrue(f.await(5, TimeUnit.SECONDS), "not done within 5 s");
        if (!f.isSuccess()) {
            throw new AssertionError("failed", f.cause());
        }
        return f.getNow();
    }

    private static void awaitDone(Future<?> f) throws InterruptedException {
        assertTrue(f.await(5, TimeUnit.SECONDS), "not done within 5 s");
    }

    /** Polls {@code condition} (every 1 ms) for up to 5 s. */
    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 5 s waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}

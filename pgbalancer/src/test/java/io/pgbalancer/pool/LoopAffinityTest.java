// purpose: which waiter a released connection goes to: its own loop's oldest, another loop's passed over a bounded number of times
package io.pgbalancer.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoopAffinityTest {
    private final DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);
    private final EventLoop loop = group.next();
    private final EventLoop otherLoop = group.next();

    @AfterEach
    void tearDown() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private PoolWaiter waiter(EventLoop on) {
        return new PoolWaiter(on.newPromise(), on, System.nanoTime());
    }

    @Test
    void aWaiterOnTheConnectionsLoopIsServedFirstAndAnOlderOneOnAnotherLoopOnlyABoundedNumberOfTimesLater() {
        ArrayDeque<PoolWaiter> waiters = new ArrayDeque<>();
        PoolWaiter elsewhere = waiter(otherLoop); // the oldest
        waiters.add(elsewhere);
        List<PoolWaiter> sameLoop = new ArrayList<>();
        for (int i = 0; i < LoopAffinity.MAX_PASSED_OVER + 2; i++) {
            sameLoop.add(waiter(loop));
            waiters.add(sameLoop.get(i));
        }
        for (int i = 0; i < LoopAffinity.MAX_PASSED_OVER; i++) {
            assertSame(sameLoop.get(i), LoopAffinity.nextWaiter(waiters, loop), "same-loop waiters in arrival order");
        }
        assertEquals(LoopAffinity.MAX_PASSED_OVER, elsewhere.passedOver);
        assertSame(elsewhere, LoopAffinity.nextWaiter(waiters, loop), "passed over enough: served first now");
        assertSame(sameLoop.get(LoopAffinity.MAX_PASSED_OVER), LoopAffinity.nextWaiter(waiters, loop));
        assertSame(sameLoop.get(LoopAffinity.MAX_PASSED_OVER + 1), LoopAffinity.nextWaiter(waiters, loop));
        assertNull(LoopAffinity.nextWaiter(waiters, loop));
    }

    @Test
    void withNoWaiterOnItsLoopTheConnectionGoesToTheOldest() {
        ArrayDeque<PoolWaiter> waiters = new ArrayDeque<>();
        PoolWaiter first = waiter(otherLoop);
        PoolWaiter second = waiter(otherLoop);
        waiters.add(first);
        waiters.add(second);
        assertSame(first, LoopAffinity.nextWaiter(waiters, loop));
        assertEquals(0, second.passedOver);
        assertSame(second, LoopAffinity.nextWaiter(waiters, loop));
    }
}

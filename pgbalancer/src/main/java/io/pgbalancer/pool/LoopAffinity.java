// Keeps a client and its server connection on one event loop where the pool can: no thread hop per message.
package io.pgbalancer.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A client on one event loop and its server connection on another cost a task hand-off (an eventfd write and a
 * wake-up) for every message in each direction (BENCHMARKS.md, "Event-loop affinity"). Two choices of the pool
 * avoid most of them; both are called under the pool's lock.
 */
final class LoopAffinity {
    /**
     * A released connection goes to the oldest waiter on its own event loop, passing over at most this many times
     * each older waiter on another loop, which is served first after that: the queue stays nearly FIFO and no waiter
     * starves.
     */
    static final int MAX_PASSED_OVER = 4;
    /** How many waiters on other loops the search for one on the connection's loop looks past at most. */
    private static final int SCAN = 32;

    private LoopAffinity() {
    }

    /** The waiter a connection released on {@code loop} goes to, removed from {@code waiters}; null if none. */
    static PoolWaiter nextWaiter(ArrayDeque<PoolWaiter> waiters, EventLoop loop) {
        PoolWaiter head = waiters.peekFirst();
        if (head == null || head.loop == loop) {
            return waiters.pollFirst();
        }
        PoolWaiter chosen = null;
        int looked = 0;
        for (PoolWaiter w : waiters) {
            if (w.loop == loop) {
                chosen = w;
                break;
            }
            if (w.passedOver >= MAX_PASSED_OVER || ++looked > SCAN) {
                break; // it has waited its turn: serve the oldest
            }
        }
        if (chosen == null) {
            return waiters.pollFirst();
        }
        for (PoolWaiter w : waiters) {
            if (w == chosen) {
                break;
            }
            w.passedOver++;
        }
        waiters.remove(chosen);
        return chosen;
    }

    /**
     * The loop a new connection opens on: the requester's, unless it already has its share of the pool ({@code size /
     * loops}, rounded up) and another loop has fewer. Connections then spread evenly over the loops, so clients on
     * every loop find one of their own loop's as often as the others do.
     *
     * @param open    the pool's open connections
     * @param opening the loops of the connections being opened, one entry each
     */
    static EventLoop loopForNewConnection(EventLoop requester, int size, List<BackendConnection> open,
            List<EventLoop> opening) {
        EventLoopGroup group = requester.parent();
        if (group == null) {
            return requester;
        }
        List<EventLoop> loops = new ArrayList<>(4);
        group.forEach(e -> loops.add((EventLoop) e));
        int share = (size + loops.size() - 1) / loops.size();
        int fewest = connectionsOn(requester, open, opening);
        if (loops.size() < 2 || fewest < share) {
            return requester;
        }
        EventLoop best = requester;
        for (EventLoop l : loops) {
            int n = connectionsOn(l, open, opening);
            if (n < fewest) {
                best = l;
                fewest = n;
            }
        }
        return best;
    }

    private static int connectionsOn(EventLoop loop, List<BackendConnection> open, List<EventLoop> opening) {
        int n = 0;
        for (BackendConnection c : open) {
            if (c.channel().eventLoop() == loop) {
                n++;
            }
        }
        for (EventLoop l : opening) {
            if (l == loop) {
                n++;
            }
        }
        return n;
    }
}

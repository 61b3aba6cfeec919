// purpose: turns a leak report of Netty's (paranoid) leak detector into a test failure instead of a log line
package io.pgbalancer.fuzz;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * Netty's detector only logs a leak, and only once the leaked buffer was garbage collected and a later allocation
 * looked at the reference queue. This class registers a listener on the detector every ByteBuf uses, and
 * {@link #collect} forces the collection and the look. The level is PARANOID (every buffer tracked) unless
 * {@code io.netty.leakDetection.level} says otherwise.
 */
public final class LeakWatch {
    private static final List<String> LEAKS = new ArrayList<>();

    static {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        try {
            Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ResourceLeakDetector<?> detector = (ResourceLeakDetector<?>) f.get(null);
            detector.setLeakListener((resourceType, records) -> {
                synchronized (LEAKS) {
                    LEAKS.add("LEAK of " + resourceType + ":" + records);
                }
            });
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private LeakWatch() {
    }

    /** The number of leaks reported so far: pass it to {@link #collect} to get the ones reported after now. */
    public static int mark() {
        synchronized (LEAKS) {
            return LEAKS.size();
        }
    }

    /**
     * Collects garbage and allocates, a few rounds, so that every buffer dropped before this call is examined; returns
     * the leaks reported since {@code mark}.
     */
    public static List<String> collect(int mark) {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            for (int i = 0; i < 16; i++) {
                // each tracked allocation polls the detector's reference queue (Unpooled heap buffers are not tracked)
                PooledByteBufAllocator.DEFAULT.heapBuffer(1).release();
            }
        }
        synchronized (LEAKS) {
            return new ArrayList<>(LEAKS.subList(Math.min(mark, LEAKS.size()), LEAKS.size()));
        }
    }
}

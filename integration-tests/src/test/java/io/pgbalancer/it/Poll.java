// Waiting for a condition instead of sleeping for a guessed time: poll it, and fail naming what was awaited.
package io.pgbalancer.it;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

public final class Poll {
    private static final long FIRST_PAUSE_MILLIS = 5;
    private static final long MAX_PAUSE_MILLIS = 100;

    private Poll() {
    }

    /**
     * Evaluates {@code condition} until it returns true (first at once, then after pauses growing from 5 to 100 ms).
     * An exception from the condition is not retried: it propagates at once.
     *
     * @throws AssertionError when it has not held within {@code timeout}, naming {@code what}
     */
    public static void until(Duration timeout, String what, Callable<Boolean> condition) throws Exception {
        untilValue(timeout, what, condition, Boolean.TRUE::equals);
    }

    /**
     * Evaluates {@code probe} until {@code done} accepts its value, and returns that value.
     *
     * @throws AssertionError when no value was accepted within {@code timeout}, naming {@code what} and the last value
     */
    public static <T> T untilValue(Duration timeout, String what, Callable<T> probe, Predicate<? super T> done)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE_MILLIS;
        while (true) {
            T value = probe.call();
            if (done.test(value)) {
                return value;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("timed out after " + describe(timeout) + " waiting for " + what
                        + (value instanceof Boolean ? "" : " (last value: " + value + ")"));
            }
            Thread.sleep(Math.max(1, Math.min(pause, left / 1_000_000)));
            pause = Math.min(MAX_PAUSE_MILLIS, pause * 2);
        }
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}

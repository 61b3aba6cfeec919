// purpose: the fuzz harness really fails on a leaked buffer, an escaping exception and a hang, and names the input
package io.pgbalancer.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FuzzHarnessTest {

    /** Buffers these tests leak on purpose, released afterwards so Netty's detector does not blame a later test. */
    private final List<ByteBuf> leaked = new ArrayList<>();

    @AfterEach
    void releaseWhatWasLeakedOnPurpose() {
        leaked.forEach(b -> b.release(b.refCnt()));
    }

    @Test
    void aBufferLeftReferencedFailsTheInputThatMadeIt() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.run("self-test-leak", 10,
                new TrackingAllocator(), c -> {
                    ByteBuf b = c.alloc().buffer(8).writeLong(42);
                    if (c.index != 3) {
                        b.release();
                    } else {
                        leaked.add(b);
                    }
                }, 10_000));
        assertTrue(e.getMessage().contains("input #3") && e.getMessage().contains("not released"), e.getMessage());
        assertTrue(e.getMessage().contains("-Dfuzz.seed=" + Fuzz.SEED), e.getMessage());
    }

    @Test
    void aRetainedSliceCountsAsALeakOfItsParent() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.run("self-test-slice", 1,
                new TrackingAllocator(), c -> {
                    ByteBuf b = c.buffer(new byte[16]);
                    ByteBuf slice = b.retainedSlice(0, 4);
                    b.release();
                    slice.readByte(); // slice never released
                    leaked.add(slice);
                }, 10_000));
        assertTrue(e.getMessage().contains("not released"), e.getMessage());
    }

    @Test
    void anUndeclaredExceptionFailsWithTheSeedAndTheInput() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.run("self-test-throw", 10,
                new TrackingAllocator(), c -> {
                    c.input("bytes", new byte[] {1, 2, 3});
                    if (c.index == 5) {
                        Fuzz.attempt(() -> {
                            throw new IndexOutOfBoundsException("boom");
                        }, IllegalStateException.class);
                    }
                }, 10_000));
        assertTrue(e.getMessage().contains("input #5") && e.getMessage().contains("-Dfuzz.case=5")
                && e.getMessage().contains("010203") && e.getCause() instanceof IndexOutOfBoundsException, e.getMessage());
    }

    @Test
    void declaredExceptionsAreOutcomes() {
        Fuzz.Report report = Fuzz.run("self-test-declared", 20, new TrackingAllocator(), c -> c.outcome(
                Fuzz.attempt(() -> {
                    if (c.index % 2 == 0) {
                        throw new IllegalStateException();
                    }
                }, IllegalStateException.class)), 10_000);
        assertEquals(10L, report.outcomes().get("IllegalStateException"));
        assertEquals(10L, report.outcomes().get("ok"));
    }

    @Test
    void anInputThatDoesNotFinishIsAHang() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.run("self-test-hang", 5,
                new TrackingAllocator(), c -> {
                    while (c.index == 2 && !Thread.currentThread().isInterrupted()) {
                        Thread.onSpinWait(); // an endless loop (that stops when the harness gives up on it)
                    }
                }, 300));
        assertTrue(e.getMessage().contains("input #2") && e.getMessage().contains("hang"), e.getMessage());
    }

    @Test
    void nettysLeakDetectorReportsADroppedBufferAndTheWatchSeesIt() {
        int mark = LeakWatch.mark();
        leakOne();
        List<String> leaks = List.of();
        for (int i = 0; i < 20 && leaks.isEmpty(); i++) {
            leaks = LeakWatch.collect(mark);
        }
        assertEquals(1, leaks.size(), leaks.toString());
        assertTrue(leaks.get(0).contains("leakOne"), "the report names where the buffer was made: " + leaks.get(0));
    }

    private static void leakOne() {
        PooledByteBufAllocator.DEFAULT.heapBuffer(32).writeInt(7); // dropped without release
    }
}

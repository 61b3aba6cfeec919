// purpose: the seeded, bounded, watchdog-guarded input loop every *FuzzTest runs its target in
package io.pgbalancer.fuzz;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * One call of {@link #run} feeds {@code fuzz.inputs × weight} generated inputs to a target and fails the test, with the
 * seed and the number of the input, when the target
 * <ul>
 *   <li>throws anything the body did not catch as one of the target's declared exceptions,</li>
 *   <li>runs longer than {@code fuzz.timeout.ms} on one input (the watchdog: a hang or an endless loop),</li>
 *   <li>leaves a buffer of the case's {@link TrackingAllocator} with a reference count above zero after the input,
 *       or Netty's own leak detector reports a leak during the run (see {@link LeakWatch}).</li>
 * </ul>
 *
 * <p>System properties: {@code fuzz.seed} (default: a fresh one, printed), {@code fuzz.inputs} (per target of weight 1,
 * default 2000), {@code fuzz.case} (run only that input: a failure names it), {@code fuzz.last} (run inputs 0 to this
 * one: for targets whose inputs share state, such as pooled connections), {@code fuzz.timeout.ms} (default 10000),
 * {@code fuzz.report} (a file each run appends one line to, default target/fuzz-report.txt). Every input gets its own
 * random generator derived from (seed, target, input number), so one input reproduces alone.
 */
public final class Fuzz {
    /** The run's seed: {@code -Dfuzz.seed}, else fresh. */
    public static final long SEED = Long.getLong("fuzz.seed", System.nanoTime() ^ 0x5DEECE66DL);
    private static final int BASE_INPUTS = Integer.getInteger("fuzz.inputs", 2000);
    private static final long ONLY_CASE = Long.getLong("fuzz.case", -1);
    private static final long LAST_CASE = Long.getLong("fuzz.last", -1);
    private static final long TIMEOUT_MS = Long.getLong("fuzz.timeout.ms", 10_000);

    private Fuzz() {
    }

    /** A target's work on one input. */
    @FunctionalInterface
    public interface Body {
        void run(Case c) throws Throwable;
    }

    /** Something to run that may throw one of the target's declared exceptions. */
    @FunctionalInterface
    public interface Attempt {
        void run() throws Throwable;
    }

    /** How many inputs a target of this weight gets (at least one). */
    public static long inputs(double weight) {
        return Math.max(1, Math.round(BASE_INPUTS * weight));
    }

    /**
     * Runs {@code attempt}; returns "ok", or the simple name of the exception if it is one of {@code allowed}.
     * Any other throwable propagates and fails the input.
     */
    @SafeVarargs
    public static String attempt(Attempt attempt, Class<? extends Throwable>... allowed) throws Throwable {
        try {
            attempt.run();
            return "ok";
        } catch (Throwable t) {
            for (Class<? extends Throwable> c : allowed) {
                if (c.isInstance(t)) {
                    return c.getSimpleName();
                }
            }
            throw t;
        }
    }

    /** One input: its random source, the buffers made for it, the bytes it fed, and how it ended. */
    public static final class Case {
        public final SplittableRandom random;
        public final long index;
        private final TrackingAllocator alloc;
        private final List<String> inputs = new ArrayList<>(2);
        private String outcome = "ok";

        Case(long index, SplittableRandom random, TrackingAllocator alloc) {
            this.index = index;
            this.random = random;
            this.alloc = alloc;
        }

        /** The allocator whose buffers must all be released when the input is done. */
        public TrackingAllocator alloc() {
            return alloc;
        }

        /** A tracked heap buffer holding {@code bytes}. */
        public ByteBuf buffer(byte[] bytes) {
            return alloc.heapBuffer(bytes.length).writeBytes(bytes);
        }

        /** A tracked heap buffer holding {@code bytes[from, to)}. */
        public ByteBuf buffer(byte[] bytes, int from, int to) {
            return alloc.heapBuffer(to - from).writeBytes(bytes, from, to - from);
        }

        /** Records bytes the input fed to the target, shown (abbreviated) when it fails. */
        public void input(String name, byte[] bytes) {
            String hex = HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 512));
            inputs.add(name + " (" + bytes.length + " bytes): " + hex + (bytes.length > 512 ? "..." : ""));
        }

        /** Records text the input fed to the target. */
        public void input(String name, String text) {
            input(name, text.getBytes(StandardCharsets.UTF_8));
        }

        /** How the input ended, for the run's histogram (e.g. "accepted", "ProtocolException"). */
        public void outcome(String label) {
            outcome = label;
        }

        public int between(int lowInclusive, int highInclusive) {
            return random.nextInt(lowInclusive, highInclusive + 1);
        }

        public boolean chance(double p) {
            return random.nextDouble() < p;
        }

        @SafeVarargs
        public final <T> T pick(T... options) {
            return options[random.nextInt(options.length)];
        }

        public <T> T pick(List<T> options) {
            return options.get(random.nextInt(options.size()));
        }
    }

    /** What a run did: inputs, time, outcomes. */
    public record Report(String target, long inputs, long millis, Map<String, Long> outcomes) {
    }

    /** Runs {@code body} on {@link #inputs(double)} inputs with a fresh tracking allocator. */
    public static Report run(String target, double weight, Body body) {
        return run(target, weight, new TrackingAllocator(), body);
    }

    /**
     * Runs {@code body} on {@link #inputs(double)} inputs. {@code alloc} is checked and cleared after every input: pass
     * the one the target's long-lived channels use, so their buffers are accounted to the input that made them.
     */
    public static Report run(String target, double weight, TrackingAllocator alloc, Body body) {
        return run(target, inputs(weight), alloc, body, TIMEOUT_MS);
    }

    /** {@link #run} with an explicit input count and per-input timeout (the harness's own tests use it). */
    public static Report run(String target, long inputs, TrackingAllocator alloc, Body body, long timeoutMillis) {
        int leakMark = LeakWatch.mark();
        long first = ONLY_CASE >= 0 ? ONLY_CASE : 0;
        long last = ONLY_CASE >= 0 ? ONLY_CASE + 1 : LAST_CASE >= 0 ? LAST_CASE + 1 : inputs;
        alloc.clear(); // what an earlier, failed run left is not this run's
        alloc.recordStacks(ONLY_CASE >= 0 || LAST_CASE >= 0);
        Loop loop = new Loop(target, first, last, alloc, body);
        Thread worker = new Thread(loop, "fuzz-" + target);
        worker.setDaemon(true);
        long started = System.nanoTime();
        worker.start();
        try {
            while (worker.isAlive()) {
                worker.join(50);
                long caseStarted = loop.caseStarted;
                if (worker.isAlive() && caseStarted != 0 && System.nanoTime() - caseStarted > timeoutMillis * 1_000_000) {
                    StackTraceElement[] stack = worker.getStackTrace();
                    long index = loop.current;
                    worker.interrupt();
                    AssertionError e = new AssertionError(describe(target, index, loop.currentCase)
                            + ": no answer within " + timeoutMillis + " ms (a hang or an endless loop); the worker is at:");
                    Throwable where = new Throwable("fuzz worker stack");
                    where.setStackTrace(stack);
                    e.initCause(where);
                    throw e;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        if (loop.failure != null) {
            throw loop.failure;
        }
        List<String> leaks = LeakWatch.collect(leakMark);
        if (!leaks.isEmpty()) {
            throw new AssertionError("fuzz " + target + " (-Dfuzz.seed=" + SEED + "): Netty's leak detector reported "
                    + leaks.size() + " leaked buffer(s) during the run:\n" + String.join("\n", leaks));
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        Report report = new Report(target, last - first, millis, loop.outcomes);
        String line = String.format("fuzz %-34s %,11d inputs %,9d ms  seed %d  %s", target, report.inputs(), millis,
                SEED, loop.outcomes);
        System.out.println(line);
        appendReport(line);
        return report;
    }

    private static void appendReport(String line) {
        String file = System.getProperty("fuzz.report", "target/fuzz-report.txt");
        try {
            Path path = Path.of(file);
            if (path.getParent() != null && Files.isDirectory(path.getParent())) {
                Files.writeString(path, line + System.lineSeparator(), StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            System.out.println("fuzz: cannot append to " + file + ": " + e);
        }
    }

    private static String describe(String target, long index, Case c) {
        StringBuilder s = new StringBuilder("fuzz ").append(target).append(" failed on input #").append(index)
                .append(" (reproduce: -Dfuzz.seed=").append(SEED).append(" -Dfuzz.case=").append(index)
                .append(", or -Dfuzz.last=").append(index).append(" for a target that keeps state across inputs)");
        if (c != null) {
            for (String in : c.inputs) {
                s.append("\n  ").append(in);
            }
        }
        return s.toString();
    }

    /** The random source of input {@code index} of {@code target}: independent of every other input. */
    static SplittableRandom randomFor(String target, long index) {
        long h = SEED ^ (target.hashCode() * 0x9E3779B97F4A7C15L);
        return new SplittableRandom(mix(h + index * 0xBF58476D1CE4E5B9L));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static final class Loop implements Runnable {
        private final String target;
        private final long first;
        private final long last;
        private final TrackingAllocator alloc;
        private final Body body;
        final Map<String, Long> outcomes = new TreeMap<>();
        volatile long caseStarted;
        volatile long current;
        volatile Case currentCase;
        volatile AssertionError failure;

        Loop(String target, long first, long last, TrackingAllocator alloc, Body body) {
            this.target = target;
            this.first = first;
            this.last = last;
            this.alloc = alloc;
            this.body = body;
        }

        @Override
        public void run() {
            for (long i = first; i < last && !Thread.currentThread().isInterrupted(); i++) {
                Case c = new Case(i, randomFor(target, i), alloc);
                current = i;
                currentCase = c;
                caseStarted = System.nanoTime();
                try {
                    body.run(c);
                } catch (Throwable t) {
                    failure = new AssertionError(describe(target, i, c) + ": " + t, t);
                    return;
                } finally {
                    caseStarted = 0;
                }
                String leaked = alloc.unreleased();
                if (leaked != null) {
                    failure = new AssertionError(describe(target, i, c) + ": " + leaked);
                    return;
                }
                alloc.clear();
                outcomes.merge(c.outcome, 1L, Long::sum);
            }
        }
    }
}

// The config file watch: plain rewrites, debouncing, links to other directories and Kubernetes ConfigMap link swaps.
package io.pgbalancer.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each callback records what the file said when it ran (as {@link ConfigReloader#reloadIfChanged} would read it),
 * so a test waits, with a deadline, for the callback that sees the new text rather than for a fixed time.
 */
class ConfigFileWatcherTest {
    private static final Duration DEBOUNCE = Duration.ofMillis(100);
    private static final long DEADLINE_MS = 5_000;

    @TempDir
    Path dir;

    private final List<ConfigFileWatcher> watchers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        watchers.forEach(ConfigFileWatcher::close);
    }

    /** Records the file's text (or "<unreadable>") and the time at every callback. */
    private static final class Recorder implements Runnable {
        final Path file;
        final BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        final BlockingQueue<Long> at = new LinkedBlockingQueue<>();

        Recorder(Path file) {
            this.file = file;
        }

        @Override
        public void run() {
            at.add(System.nanoTime());
            try {
                seen.add(Files.readString(file, StandardCharsets.UTF_8));
            } catch (IOException e) {
                seen.add("<unreadable>");
            }
        }

        /** Waits for a callback that sees {@code expected}; fails after the deadline. */
        void awaitText(String expected) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
            List<String> others = new ArrayList<>();
            while (true) {
                long left = deadline - System.nanoTime();
                String text = left <= 0 ? null : seen.poll(left, TimeUnit.NANOSECONDS);
                if (text == null) {
                    throw new AssertionError("no callback saw \"" + expected + "\" within " + DEADLINE_MS
                            + " ms; callbacks saw " + others);
                }
                if (text.equals(expected)) {
                    return;
                }
                others.add(text);
            }
        }
    }

    private ConfigFileWatcher watch(Path file, Runnable onChange) throws IOException {
        ConfigFileWatcher w = new ConfigFileWatcher(file, onChange, DEBOUNCE);
        watchers.add(w);
        return w.start();
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aPlainRewriteOfTheFileRunsTheCallback() throws Exception {
        Path file = dir.resolve("pgbalancer.yaml");
        write(file, "one");
        Recorder r = new Recorder(file);
        watch(file, r);
        write(file, "two");
        r.awaitText("two");
    }

    @Test
    void aFileReplacedByRenameRunsTheCallback() throws Exception {
        // how many editors save: write a temporary file beside it, then rename it over the original
        Path file = dir.resolve("pgbalancer.yaml");
        write(file, "one");
        Recorder r = new Recorder(file);
        watch(file, r);
        Path tmp = dir.resolve(".pgbalancer.yaml.swp");
        write(tmp, "two");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        r.awaitText("two");
    }

    @Test
    void quickWritesWithinTheDebounceGiveOneCallbackAfterTheLast() throws Exception {
        Duration debounce = Duration.ofMillis(300);
        Path file = dir.resolve("pgbalancer.yaml");
        write(file, "v0");
        Recorder r = new Recorder(file);
        ConfigFileWatcher w = new ConfigFileWatcher(file, r, debounce);
        watchers.add(w);
        w.start();
        long lastWrite = 0;
        for (int i = 1; i <= 8; i++) { // 8 writes 25 ms apart: longer in all than one debounce period
            write(file, "v" + i);
            lastWrite = System.nanoTime();
            Thread.sleep(25);
        }
        String first = r.seen.poll(DEADLINE_MS, TimeUnit.MILLISECONDS);
        assertEquals("v8", first, "the first callback did not wait for the last write");
        long callbackAt = r.at.poll();
        assertTrue(callbackAt - lastWrite >= debounce.toNanos() - TimeUnit.MILLISECONDS.toNanos(10),
                "the callback ran " + TimeUnit.NANOSECONDS.toMillis(callbackAt - lastWrite)
                        + " ms after the last write, before the writes had settled for " + debounce.toMillis() + " ms");
        Thread.sleep(3 * debounce.toMillis()); // a window to prove there is no second callback
        assertNull(r.seen.poll(), "a second callback for the same burst of writes");
    }

    @Test
    void aWriteToTheTargetOfALinkInAnotherDirectoryRunsTheCallback() throws Exception {
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Path conf = Files.createDirectory(dir.resolve("conf"));
        Path real = elsewhere.resolve("real.yaml");
        write(real, "one");
        Path file = Files.createSymbolicLink(conf.resolve("pgbalancer.yaml"), Path.of("../elsewhere/real.yaml"));
        Recorder r = new Recorder(file);
        watch(file, r);
        write(real, "two"); // nothing changes in conf/: only the link target's directory sees this
        r.awaitText("two");
    }

    @Test
    void aConfigMapLinkSwapRunsTheCallbackAndSoDoesTheNextOne() throws Exception {
        // the layout of a Kubernetes ConfigMap volume
        Files.createDirectory(dir.resolve("..v1"));
        write(dir.resolve("..v1/pgbalancer.yaml"), "one");
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
        Path file = Files.createSymbolicLink(dir.resolve("pgbalancer.yaml"), Path.of("..data/pgbalancer.yaml"));
        assertEquals("one", Files.readString(file));
        Recorder r = new Recorder(file);
        watch(file, r);

        swap("..v1", "..v2", "two");
        r.awaitText("two");

        swap("..v2", "..v3", "three");
        r.awaitText("three");
    }

    @Test
    void afterASwapTheNewLinkTargetDirectoryIsTheOneWatched() throws Exception {
        Files.createDirectory(dir.resolve("..v1"));
        write(dir.resolve("..v1/pgbalancer.yaml"), "one");
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
        Path file = Files.createSymbolicLink(dir.resolve("pgbalancer.yaml"), Path.of("..data/pgbalancer.yaml"));
        Recorder r = new Recorder(file);
        watch(file, r);

        swap("..v1", "..v2", "two");
        r.awaitText("two");
        // an in-place write inside ..v2 makes no event in the volume's top directory: only a watch on ..v2 sees it
        write(dir.resolve("..v2/pgbalancer.yaml"), "two, edited in place");
        r.awaitText("two, edited in place");
    }

    @Test
    void aCallbackThatThrowsDoesNotStopTheWatch() throws Exception {
        Path file = dir.resolve("pgbalancer.yaml");
        write(file, "one");
        Recorder r = new Recorder(file);
        watch(file, () -> {
            r.run();
            throw new IllegalStateException("reload blew up");
        });
        write(file, "two");
        r.awaitText("two");
        write(file, "three");
        r.awaitText("three");
    }

    @Test
    void noCallbackAfterClose() throws Exception {
        Path file = dir.resolve("pgbalancer.yaml");
        write(file, "one");
        Recorder r = new Recorder(file);
        ConfigFileWatcher w = watch(file, r);
        write(file, "two");
        r.awaitText("two");
        w.close();
        write(file, "three");
        Thread.sleep(5 * DEBOUNCE.toMillis()); // a window to prove there is no callback
        assertNull(r.seen.poll(), "a callback after close");
    }

    /**
     * What the kubelet does: the new version in a new hidden directory, a temporary link to it renamed over
     * {@code ..data} in one step, then the old version removed.
     */
    private void swap(String from, String to, String text) throws IOException {
        Path next = Files.createDirectory(dir.resolve(to));
        write(next.resolve("pgbalancer.yaml"), text);
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of(to));
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.delete(dir.resolve(from).resolve("pgbalancer.yaml"));
        Files.delete(dir.resolve(from));
    }
}

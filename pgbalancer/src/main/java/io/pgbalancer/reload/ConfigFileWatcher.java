// Watches the configuration file and reloads after it changed, once the writes have settled (debounced).
package io.pgbalancer.reload;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the directory that holds the file, and the directory of the file it links to: a Kubernetes ConfigMap
 * volume replaces {@code config.yaml -> ..data/config.yaml} by swapping the {@code ..data} link atomically, which is
 * an event in the first directory, not on the file. Events are collected until {@code debounce} passes without one
 * (editors and the kubelet write in several steps); then the reloader reloads if the text changed. The watched
 * directories are worked out again after every batch, since the link's target moves.
 */
public final class ConfigFileWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigFileWatcher.class);
    public static final Duration DEBOUNCE = Duration.ofMillis(300);

    private final Path file;
    private final Runnable onChange;
    private final Duration debounce;
    private final WatchService watcher;
    private final Thread thread;
    private final List<WatchKey> keys = new ArrayList<>();

    public ConfigFileWatcher(Path file, Runnable onChange, Duration debounce) throws IOException {
        this.file = file.toAbsolutePath();
        this.onChange = onChange;
        this.debounce = debounce;
        this.watcher = FileSystems.getDefault().newWatchService();
        this.thread = new Thread(this::run, "pgbalancer-config-watch");
        thread.setDaemon(true);
    }

    public ConfigFileWatcher start() {
        registerDirectories();
        thread.start();
        return this;
    }

    private void registerDirectories() {
        keys.forEach(WatchKey::cancel);
        keys.clear();
        Set<Path> dirs = new LinkedHashSet<>();
        dirs.add(file.getParent());
        try {
            if (Files.exists(file)) {
                dirs.add(file.toRealPath().getParent());
            }
        } catch (IOException e) {
            // the link is being swapped: the next batch of events registers again
        }
        for (Path dir : dirs) {
            try {
                keys.add(dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE));
            } catch (IOException e) {
                log.warn("cannot watch {} for changes to {}: {}", dir, file, e.getMessage());
            }
        }
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                drain(key);
                // settle: wait until no event arrives for one debounce period
                while ((key = watcher.poll(debounce.toMillis(), TimeUnit.MILLISECONDS)) != null) {
                    drain(key);
                }
                registerDirectories();
                try {
                    onChange.run();
                } catch (RuntimeException e) {
                    log.error("reloading after a change to {} failed", file, e);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    private static void drain(WatchKey key) {
        key.pollEvents();
        key.reset();
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            // nothing left to do
        }
        thread.interrupt();
    }
}

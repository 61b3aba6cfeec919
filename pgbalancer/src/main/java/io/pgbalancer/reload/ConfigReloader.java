// Reloads the configuration file: validates it whole, applies what may change live, and reports the rest.
package io.pgbalancer.reload;

import io.pgbalancer.config.ConfigException;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Triggered by SIGHUP, the admin console's RELOAD and changes to the file (see {@link ConfigFileWatcher}); one reload
 * runs at a time. A file with any problem is rejected whole, every problem is logged, and the running configuration
 * stays. A valid one is applied through the {@link Applier}; keys that need a restart keep their running values and
 * are reported.
 */
public final class ConfigReloader {
    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

    /** Applies a validated configuration to the running proxy; throws (having changed nothing) if it cannot. */
    public interface Applier {
        void apply(PgBalancerConfig next) throws Exception;
    }

    /** What one reload did: ok or not, and a one-paragraph account for the log and the admin console. */
    public record Outcome(boolean ok, String message) {
    }

    private final Path file;
    private final Map<String, String> env;
    private final LiveConfig live;
    private final Applier applier;
    private final AtomicLong succeeded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    /** The text last loaded (valid or not), so a file event that changed nothing does not reload. */
    private String lastText;

    /** @param file the configuration file, or null when the proxy was started from a configuration in memory */
    public ConfigReloader(Path file, Map<String, String> env, LiveConfig live, Applier applier) {
        this.file = file;
        this.env = env;
        this.live = live;
        this.applier = applier;
        this.lastText = file == null ? null : read(file);
    }

    public Path file() {
        return file;
    }

    /** Reloads now, whatever the file holds (SIGHUP, RELOAD). */
    public synchronized Outcome reload(String trigger) {
        if (file == null) {
            return fail(trigger, "there is no configuration file to reload: this pgbalancer was started from a"
                    + " configuration in memory");
        }
        lastText = read(file);
        PgBalancerConfig next;
        try {
            next = ConfigLoader.load(file, env);
        } catch (ConfigException e) {
            return fail(trigger, e.report());
        }
        ConfigChanges changes = ConfigChanges.between(live.get(), next);
        try {
            applier.apply(changes.effective());
        } catch (Exception e) {
            return fail(trigger, e.getMessage() == null ? e.toString() : e.getMessage());
        }
        live.set(changes.effective());
        succeeded.incrementAndGet();
        for (String key : changes.needRestart()) {
            log.warn("config reload ({}): {} changed but needs a restart; the running value stays", trigger, key);
        }
        String message = changes.applied().isEmpty() ? "no change to apply"
                : "applied: " + String.join("; ", changes.applied());
        if (!changes.needRestart().isEmpty()) {
            message += "; needs a restart: " + String.join("; ", changes.needRestart());
        }
        for (String warning : next.warnings()) {
            log.warn("config: {}", warning);
        }
        log.info("config reloaded from {} ({}): {}", file, trigger, message);
        return new Outcome(true, message);
    }

    /** Reloads if the file's text differs from what was last loaded (a file event; editors fire several). */
    public synchronized Outcome reloadIfChanged(String trigger) {
        if (file == null || java.util.Objects.equals(read(file), lastText)) {
            return null;
        }
        return reload(trigger);
    }

    private Outcome fail(String trigger, String why) {
        failed.incrementAndGet();
        log.error("config reload ({}) rejected, the running configuration stays: {}", trigger, why);
        return new Outcome(false, why);
    }

    /** Reloads that applied a configuration. */
    public long succeeded() {
        return succeeded.get();
    }

    /** Reloads rejected: invalid file, or one the running proxy could not apply. */
    public long failed() {
        return failed.get();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null; // unreadable: load() reports why
        }
    }
}

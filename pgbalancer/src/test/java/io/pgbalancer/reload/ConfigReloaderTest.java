// ConfigReloader on a temp file: valid reloads applied, invalid files and failing appliers rejected whole, counters.
package io.pgbalancer.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.config.PoolMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigReloaderTest {
    private static final String BASE = """
            listen: {host: 127.0.0.1, port: 6432}
            auth: {users: [{name: app, password: s3cret}]}
            backends:
              - {host: db0, port: 5432, role: primary}
              - {host: db1, port: 5433, role: replica}
            """;

    @TempDir
    Path dir;

    private Path file;
    private PgBalancerConfig running;
    private LiveConfig live;
    private final List<PgBalancerConfig> applied = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        file = dir.resolve("pgbalancer.yaml");
        write(BASE + "pool: {size: 10}\n");
        running = ConfigLoader.load(file, Map.of());
        live = new LiveConfig(running);
    }

    private void write(String text) throws Exception {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private ConfigReloader reloader() {
        return new ConfigReloader(file, Map.of(), live, applied::add);
    }

    @Test
    void aValidChangeIsAppliedAsTheEffectiveConfigAndThenBecomesLive() throws Exception {
        ConfigReloader reloader = reloader();
        write(BASE.replace("port: 6432", "port: 7000") + "pool: {size: 30, mode: session}\n");

        ConfigReloader.Outcome outcome = reloader.reload("test");

        assertTrue(outcome.ok(), outcome.message());
        assertEquals(1, applied.size());
        PgBalancerConfig next = applied.get(0);
        assertEquals(30, next.pool().size(), "the new pool size is applied");
        assertEquals(running.listen(), next.listen(), "listen keeps its running value");
        assertEquals(PoolMode.TRANSACTION, next.pool().mode(), "pool.mode keeps its running value");
        assertSame(next, live.get(), "what was applied is what is live");
        assertEquals(1, reloader.succeeded());
        assertEquals(0, reloader.failed());
        assertTrue(outcome.message().startsWith("applied: pool"), outcome.message());
        assertTrue(outcome.message().contains("needs a restart: listen"), outcome.message());
        assertTrue(outcome.message().contains("pool.mode"), outcome.message());
    }

    @Test
    void aReloadOfTheSameFileAppliesNothingNew() throws Exception {
        ConfigReloader reloader = reloader();
        ConfigReloader.Outcome outcome = reloader.reload("SIGHUP");
        assertTrue(outcome.ok(), outcome.message());
        assertEquals("no change to apply", outcome.message());
        assertEquals(List.of(running), applied);
        assertEquals(running, live.get());
        assertEquals(1, reloader.succeeded());
    }

    @Test
    void anInvalidFileIsRejectedWholeListingEveryProblem() throws Exception {
        ConfigReloader reloader = reloader();
        write(BASE.replace("port: 6432", "port: 99999") + "pool: {size: 0}\n");

        ConfigReloader.Outcome outcome = reloader.reload("test");

        assertFalse(outcome.ok());
        assertTrue(outcome.message().contains("2 problems"), outcome.message());
        assertTrue(outcome.message().contains("listen.port"), outcome.message());
        assertTrue(outcome.message().contains("pool.size"), outcome.message());
        assertEquals(List.of(), applied, "nothing of an invalid file is applied");
        assertSame(running, live.get());
        assertEquals(1, reloader.failed());
        assertEquals(0, reloader.succeeded());
    }

    @Test
    void anApplierThatThrowsLeavesTheLiveConfigAndCountsAFailure() throws Exception {
        ConfigReloader reloader = new ConfigReloader(file, Map.of(), live, next -> {
            throw new IllegalStateException("cannot read the volatile functions from the primary");
        });
        write(BASE + "pool: {size: 30}\n");

        ConfigReloader.Outcome outcome = reloader.reload("test");

        assertFalse(outcome.ok());
        assertEquals("cannot read the volatile functions from the primary", outcome.message());
        assertSame(running, live.get());
        assertEquals(1, reloader.failed());
        assertEquals(0, reloader.succeeded());
    }

    @Test
    void reloadIfChangedReloadsOnlyWhenTheTextDiffersFromTheLastLoaded() throws Exception {
        ConfigReloader reloader = reloader();
        assertNull(reloader.reloadIfChanged("file changed"), "the text the proxy started with");
        write(BASE + "pool: {size: 10}\n"); // rewritten, same text
        assertNull(reloader.reloadIfChanged("file changed"));
        assertEquals(List.of(), applied);

        write(BASE + "pool: {size: 12}\n");
        ConfigReloader.Outcome outcome = reloader.reloadIfChanged("file changed");
        assertNotNull(outcome);
        assertTrue(outcome.ok(), outcome.message());
        assertEquals(12, live.get().pool().size());
        assertNull(reloader.reloadIfChanged("file changed"), "already loaded");

        write(BASE + "pool: {size: -1}\n");
        assertFalse(reloader.reloadIfChanged("file changed").ok());
        assertNull(reloader.reloadIfChanged("file changed"), "the same invalid text is not reported again");
        assertEquals(1, reloader.failed());
        assertEquals(1, reloader.succeeded());
        assertEquals(1, applied.size());

        assertFalse(reloader.reload("SIGHUP").ok(), "an explicit reload reads it again");
        assertEquals(2, reloader.failed());
    }

    @Test
    void aDeletedFileFailsAndTheRunningConfigStays() throws Exception {
        ConfigReloader reloader = reloader();
        Files.delete(file);
        ConfigReloader.Outcome outcome = reloader.reload("SIGHUP");
        assertFalse(outcome.ok());
        assertTrue(outcome.message().contains("no such file"), outcome.message());
        assertSame(running, live.get());
        assertEquals(1, reloader.failed());
    }

    @Test
    void environmentValuesAreSubstitutedOnReload() throws Exception {
        ConfigReloader reloader = new ConfigReloader(file, Map.of("APP_PASSWORD", "fr0m-env"), live, applied::add);
        write(BASE.replace("password: s3cret", "password: \"${APP_PASSWORD}\"") + "pool: {size: 10}\n");
        ConfigReloader.Outcome outcome = reloader.reload("test");
        assertTrue(outcome.ok(), outcome.message());
        assertEquals("fr0m-env", live.get().auth().users().get(0).password());
        assertEquals("applied: user app: new password; monitor", outcome.message());
        assertFalse(outcome.message().contains("fr0m-env"));
    }

    @Test
    void aReloaderWithoutAFileFailsWithAClearMessage() {
        ConfigReloader reloader = new ConfigReloader(null, Map.of(), live, applied::add);
        assertNull(reloader.file());
        ConfigReloader.Outcome outcome = reloader.reload("admin console RELOAD");
        assertFalse(outcome.ok());
        assertTrue(outcome.message().contains("no configuration file to reload"), outcome.message());
        assertTrue(outcome.message().contains("in memory"), outcome.message());
        assertEquals(1, reloader.failed());
        assertNull(reloader.reloadIfChanged("file changed"));
        assertEquals(1, reloader.failed(), "a file event never counts for a reloader without a file");
        assertEquals(List.of(), applied);
        assertSame(running, live.get());
    }
}

// Runs the non-JDBC driver check scripts (src/test/python, src/test/node) as subprocesses against a TestProxy.
package io.pgbalancer.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Each script takes one scenario name, reads the connection details from {@code PGB_*} environment variables (see
 * {@link #environment}), prints {@code step: ...} before each driver call and {@code PASS <scenario>} when every
 * check held, and exits non-zero otherwise. A script bounds each driver call itself (20 s); the process as a whole
 * is bounded here too, and killed with its children when it overruns.
 */
final class DriverScripts {
    /** Replica reads through pgbalancer: pool size 4 per server, a checkout that waits long enough not to flake. */
    static final String POOL = "pool: {mode: transaction, size: 4, checkout_timeout: 10s}\n";

    private DriverScripts() {
    }

    /** {@code integration-tests/src/test/<language>}, wherever the build was started from. */
    static Path sources(String language) {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path candidate : List.of(base, base.resolve("integration-tests"))) {
            Path dir = candidate.resolve("src/test").resolve(language);
            if (Files.isDirectory(dir)) {
                return dir;
            }
        }
        throw new IllegalStateException("no src/test/" + language + " under " + base);
    }

    /** Where the scripts connect (pgbalancer), as whom, and which ports are the primary and the replicas. */
    static Map<String, String> environment(TestProxy proxy) {
        Map<String, String> env = new HashMap<>();
        env.put("PGB_HOST", "127.0.0.1");
        env.put("PGB_PORT", Integer.toString(proxy.port()));
        env.put("PGB_USER", "app");
        env.put("PGB_PASSWORD", TestCluster.APP_PASSWORD);
        env.put("PGB_DATABASE", "app");
        env.put("PGB_PRIMARY_PORT", Integer.toString(TestCluster.get().primaryPort()));
        env.put("PGB_REPLICA_PORTS", TestCluster.get().replicaPorts().stream().map(String::valueOf)
                .collect(Collectors.joining(",")));
        return env;
    }

    /** True when the command runs and exits 0 within 60 s (used to tell whether a driver is installed). */
    static boolean succeeds(Path workDir, String... cmd) {
        try {
            return run(List.of(cmd), Map.of(), workDir, Duration.ofSeconds(60)).exit == 0;
        } catch (IOException e) {
            return false; // not installed
        } catch (AssertionError e) {
            return false; // timed out
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code cmd scenario} and fails, with the script's whole output, unless it printed PASS and exited 0. */
    static void assertScenarioPasses(String driver, List<String> cmd, String scenario, TestProxy proxy,
                                     Path workDir, Duration timeout) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(cmd);
        full.add(scenario);
        Result r = run(full, environment(proxy), workDir, timeout);
        if (r.exit != 0 || !r.stdout.lines().anyMatch(("PASS " + scenario)::equals)) {
            String message = driver + " scenario '" + scenario + "' failed (exit " + r.exit + ") at "
                    + r.lastStep() + ": " + r.lastError() + "\n" + r.describe();
            System.out.println(message);
            throw new AssertionError(message);
        }
    }

    /** "AssertionError: ...", "asyncpg.exceptions.X: ...", node's "error: ...", faulthandler's "Timeout (0:00:20)!". */
    private static final Pattern ERROR_LINE = Pattern.compile("[\\w.]*(?:Error|Exception)\\b|Timeout \\(|error: ");

    record Result(List<String> cmd, int exit, String stdout, String stderr) {
        String lastStep() {
            return stdout.lines().filter(l -> l.startsWith("step: ")).reduce((a, b) -> b)
                    .map(l -> "'" + l.substring(6) + "'").orElse("no step");
        }

        /** The script's own summary of what went wrong: the last exception line it printed. */
        String lastError() {
            List<String> lines = stderr.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (ERROR_LINE.matcher(lines.get(i)).lookingAt()) {
                    return lines.get(i);
                }
            }
            return lines.isEmpty() ? "(nothing on stderr)" : lines.get(lines.size() - 1);
        }

        String describe() {
            return "command: " + String.join(" ", cmd) + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    static Result run(List<String> cmd, Map<String, String> env, Path workDir, Duration timeout)
            throws IOException, InterruptedException {
        Path stdout = Files.createTempFile("driver-script", ".out");
        Path stderr = Files.createTempFile("driver-script", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            // nothing of the developer's libpq environment (PGDATESTYLE, PGOPTIONS, ...) may leak into the drivers
            pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
            pb.environment().put("LC_ALL", "C.UTF-8");
            pb.environment().put("PYTHONUNBUFFERED", "1");
            pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                Result partial = new Result(cmd, -1, Files.readString(stdout), Files.readString(stderr));
                String message = "timed out after " + timeout.toSeconds() + " s at " + partial.lastStep() + "\n"
                        + partial.describe();
                System.out.println(message);
                throw new AssertionError(message);
            }
            return new Result(cmd, p.exitValue(), Files.readString(stdout), Files.readString(stderr));
        } finally {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        }
    }
}

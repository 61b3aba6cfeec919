// purpose: runs PostgreSQL tools with a timeout and captured output, dropping root privileges to a dedicated system user
package io.pgbalancer.cluster;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Executes commands for the harness. PostgreSQL refuses to run as root, so when this JVM is root every
 * PostgreSQL command is run as {@value #SYSTEM_USER} (created on demand with useradd) through
 * {@code setpriv --reuid --regid --clear-groups} (or {@code runuser -u} when setpriv is missing), and the
 * data directories are chowned to that user. When not root, commands run directly.
 */
final class PgProcessRunner {
    static final String SYSTEM_USER = "pgbalancer-pg";
    private static final int MAX_OUTPUT_BYTES = 256 * 1024;

    /** Outcome of one finished command; {@code output} is stdout and stderr merged. */
    record Result(List<String> command, int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private final Integer uid;
    private final Integer gid;

    private PgProcessRunner(Integer uid, Integer gid) {
        this.uid = uid;
        this.gid = gid;
    }

    /** A runner for this JVM: direct when not root, otherwise via the (created if missing) system user. */
    static PgProcessRunner create(Consumer<String> log) {
        if (!isRoot()) {
            return new PgProcessRunner(null, null);
        }
        Result id = runRaw(List.of("id", "-u", SYSTEM_USER), Duration.ofSeconds(10));
        if (!id.ok()) {
            log.accept("running as root: creating system user " + SYSTEM_USER);
            Result add = runRaw(List.of("useradd", "--system", "--user-group", "--no-create-home",
                    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SYSTEM_USER), Duration.ofSeconds(30));
            id = runRaw(List.of("id", "-u", SYSTEM_USER), Duration.ofSeconds(10));
            if (!id.ok()) { // a concurrent useradd may have won the race; only fail if the user still is missing
                throw ClusterException.step("cannot create system user " + SYSTEM_USER + " to run PostgreSQL as non-root",
                        add.command(), add.exitCode(), add.output(), null, null);
            }
        }
        Result gidResult = runRaw(List.of("id", "-g", SYSTEM_USER), Duration.ofSeconds(10));
        if (!gidResult.ok()) {
            throw ClusterException.step("cannot read the group of " + SYSTEM_USER, gidResult.command(),
                    gidResult.exitCode(), gidResult.output(), null, null);
        }
        return new PgProcessRunner(Integer.parseInt(id.output().trim()), Integer.parseInt(gidResult.output().trim()));
    }

    /** True when the effective uid of this process is 0 (read from the owner of /proc/self). */
    static boolean isRoot() {
        try {
            Object owner = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return owner instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    boolean dropsPrivileges() {
        return uid != null;
    }

    /** Describes who PostgreSQL runs as, for progress messages. */
    String describeUser() {
        return uid == null ? System.getProperty("user.name") : SYSTEM_USER + " (uid " + uid + ", gid " + gid + ")";
    }

    /** Runs a PostgreSQL command as the server user; returns even when it fails (but not when it times out). */
    Result run(List<String> command, Duration timeout) {
        return runRaw(wrap(command), timeout, cleanEnv(), command);
    }

    /** Runs a command as the server user and throws a {@link ClusterException} with the server log tail on failure. */
    Result check(String what, List<String> command, Duration timeout, Path serverLog) {
        Result r = run(command, timeout);
        if (!r.ok()) {
            throw ClusterException.step(what, command, r.exitCode(), r.output(), serverLog, null);
        }
        return r;
    }

    /** Fails with an explanation when the server user cannot enter the given directory. */
    void requireTraversable(Path dir) {
        if (uid == null) {
            return;
        }
        Result r = run(List.of("test", "-x", dir.toString()), Duration.ofSeconds(10));
        if (!r.ok()) {
            throw new ClusterException("PostgreSQL runs as " + describeUser() + " but that user cannot enter " + dir
                    + "; every parent directory must be executable (traversable) by others. Use a data dir under /tmp.");
        }
    }

    /** Gives a directory tree to the server user (no-op when not root). */
    void chownRecursive(Path root) {
        if (uid == null) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    chown(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    chown(file);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new ClusterException("cannot chown " + root + " to " + describeUser() + ": " + e, e);
        }
    }

    private void chown(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    private List<String> wrap(List<String> command) {
        if (uid == null) {
            return command;
        }
        List<String> full = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setpriv")) || Files.isExecutable(Path.of("/bin/setpriv"))) {
            full.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        } else {
            full.addAll(List.of("runuser", "-u", SYSTEM_USER, "--"));
        }
        full.addAll(command);
        return full;
    }

    /** Environment without PG* variables (PGPORT, PGDATA… would leak into the tools) and with C messages. */
    private Map<String, String> cleanEnv() {
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("LC_"));
        env.put("LANG", "C");
        env.put("LC_ALL", "C");
        if (uid != null) {
            env.put("HOME", "/");
            env.put("USER", SYSTEM_USER);
            env.put("LOGNAME", SYSTEM_USER);
        }
        return env;
    }

    static Result runRaw(List<String> command, Duration timeout) {
        return runRaw(command, timeout, null, command);
    }

    private static Result runRaw(List<String> command, Duration timeout, Map<String, String> env, List<String> shown) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .directory(new java.io.File("/"));
        if (env != null) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw ClusterException.step("cannot start command: " + e.getMessage(), shown, null, null, null, e);
        }
        OutputCollector out = new OutputCollector(p.getInputStream());
        out.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                out.join(1000);
                throw ClusterException.step("command timed out after " + timeout.toSeconds() + "s", shown, null,
                        out.text(), null, null);
            }
            out.join(2000); // a daemon grandchild may keep the pipe open; do not wait for it
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted while running " + String.join(" ", shown), e);
        }
        return new Result(shown, p.exitValue(), out.text());
    }

    /** Drains a process's output into a bounded buffer (keeps the first MAX_OUTPUT_BYTES). */
    private static final class OutputCollector extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        OutputCollector(InputStream in) {
            super("pg-output-collector");
            setDaemon(true);
            this.in = in;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(chunk)) > 0) {
                    synchronized (buf) {
                        if (buf.size() < MAX_OUTPUT_BYTES) {
                            buf.write(chunk, 0, Math.min(n, MAX_OUTPUT_BYTES - buf.size()));
                        }
                    }
                }
            } catch (IOException ignored) {
                // process went away
            }
        }

        String text() {
            synchronized (buf) {
                return buf.toString(StandardCharsets.UTF_8);
            }
        }
    }
}

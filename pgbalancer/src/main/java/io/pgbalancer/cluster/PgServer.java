// purpose: one PostgreSQL server (primary or replica) in its own data dir: initdb, config files, start, wait, stop
package io.pgbalancer.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

final class PgServer {
    static final String LOG_FILE = "server.log";
    static final String CONF_FILE = "pgbalancer.conf";
    private static final String INCLUDE_LINE = "include_if_exists = '" + CONF_FILE + "'";
    private static final int PG_CTL_WAIT_SECONDS = 60;

    enum StartResult { STARTED, PORT_IN_USE }

    private final String name;
    private final Path dir;
    private final PgBinaries binaries;
    private final PgProcessRunner runner;
    private final Consumer<String> log;
    private volatile int port;

    PgServer(String name, Path dir, int port, PgBinaries binaries, PgProcessRunner runner, Consumer<String> log) {
        this.name = name;
        this.dir = dir.toAbsolutePath().normalize();
        this.port = port;
        this.binaries = binaries;
        this.runner = runner;
        this.log = log;
    }

    String name() {
        return name;
    }

    Path dir() {
        return dir;
    }

    int port() {
        return port;
    }

    void port(int newPort) {
        this.port = newPort;
    }

    Path logFile() {
        return dir.resolve(LOG_FILE);
    }

    boolean initialized() {
        return Files.isRegularFile(dir.resolve("PG_VERSION"));
    }

    /** Major version recorded in PG_VERSION, e.g. "15". */
    String dataVersion() {
        try {
            return Files.readString(dir.resolve("PG_VERSION")).trim();
        } catch (IOException e) {
            throw new ClusterException("cannot read " + dir.resolve("PG_VERSION") + ": " + e, e);
        }
    }

    /** Creates the (empty) data dir with mode 0700, owned by the server user. */
    void createEmptyDir() {
        try {
            if (Files.exists(dir)) {
                try (var entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new ClusterException("data dir " + dir + " exists and is not empty but holds no cluster");
                    }
                }
            }
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new ClusterException("cannot create data dir " + dir + ": " + e, e);
        }
        runner.chownRecursive(dir);
    }

    void initdb() {
        createEmptyDir();
        log.accept(name + ": initdb " + dir);
        runner.check("initdb of " + name + " failed", List.of(binaries.bin("initdb").toString(), "-D", dir.toString(),
                "-U", PgJdbc.SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"),
                Duration.ofMinutes(3), null);
    }

    /** Writes pgbalancer.conf (included from postgresql.conf; later lines win) with the given settings. */
    void writeConfig(Map<String, String> settings) {
        StringBuilder sb = new StringBuilder("# written by pgbalancer LocalCluster on every start; edits are lost\n");
        settings.forEach((k, v) -> sb.append(k).append(" = ").append(quoteSetting(v)).append('\n'));
        try {
            Path main = dir.resolve("postgresql.conf");
            String conf = Files.readString(main, StandardCharsets.UTF_8);
            if (!conf.contains(INCLUDE_LINE)) {
                Files.writeString(main, conf + (conf.endsWith("\n") ? "" : "\n") + INCLUDE_LINE + "\n", StandardCharsets.UTF_8);
            }
            writeOwned(dir.resolve(CONF_FILE), sb.toString());
        } catch (IOException e) {
            throw new ClusterException("cannot write the configuration of " + name + " in " + dir + ": " + e, e);
        }
    }

    void writeHba(List<String> lines) {
        writeOwned(dir.resolve("pg_hba.conf"), "# written by pgbalancer LocalCluster on every start\n"
                + String.join("\n", lines) + "\n");
    }

    /** Writes a file inside the data dir, owned by the server user, mode 0600. */
    void writeOwned(Path file, String content) {
        try {
            Files.writeString(file, content, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new ClusterException("cannot write " + file + ": " + e, e);
        }
        runner.chownRecursive(file);
    }

    static String quoteSetting(String value) {
        if (value.length() >= 2 && value.startsWith("'") && value.endsWith("'")) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** Starts via pg_ctl and waits for the postmaster; returns PORT_IN_USE when the bind failed. */
    StartResult start() {
        if (isRunning()) {
            log.accept(name + ": already running (pid " + pid().orElse(-1L) + "), reusing it");
            return StartResult.STARTED;
        }
        long logOffset = size(logFile());
        log.accept(name + ": starting on port " + port);
        List<String> cmd = List.of(binaries.bin("pg_ctl").toString(), "-D", dir.toString(), "-l", logFile().toString(),
                "-w", "-t", Integer.toString(PG_CTL_WAIT_SECONDS), "start");
        PgProcessRunner.Result r;
        try {
            r = runner.run(cmd, Duration.ofSeconds(PG_CTL_WAIT_SECONDS + 30));
        } catch (ClusterException e) {
            stopQuietly();
            throw ClusterException.step("starting " + name + " failed: " + e.getMessage(), logFile(), e);
        }
        if (r.ok()) {
            return StartResult.STARTED;
        }
        stopQuietly();
        String fresh = readFrom(logFile(), logOffset);
        if (fresh.contains("could not bind") || fresh.contains("Address already in use")) {
            log.accept(name + ": port " + port + " is taken");
            return StartResult.PORT_IN_USE;
        }
        throw ClusterException.step("starting " + name + " (port " + port + ") failed", cmd, r.exitCode(), r.output(),
                logFile(), null);
    }

    /** Waits until a superuser connection works; fails fast with the log tail if the server died. */
    void awaitConnectable(Duration timeout) {
        SQLException[] last = new SQLException[1];
        boolean ok = PgJdbc.await(timeout, Duration.ofMillis(100), () -> {
            try (Connection c = PgJdbc.superuser(port)) {
                PgJdbc.queryString(c, "SELECT 1");
                return true;
            } catch (SQLException e) {
                last[0] = e;
                if (!isRunning()) {
                    throw ClusterException.step(name + " exited while waiting for it to accept connections", logFile(), e);
                }
                return false;
            }
        });
        if (!ok) {
            throw ClusterException.step(name + " (port " + port + ") did not accept connections within "
                    + timeout.toSeconds() + "s; last error: " + (last[0] == null ? "?" : last[0].getMessage()), logFile(), last[0]);
        }
    }

    /** pg_ctl promote: a standby leaves recovery and takes writes; waits until it does. */
    void promote() {
        log.accept(name + ": promoting");
        List<String> cmd = List.of(binaries.bin("pg_ctl").toString(), "-D", dir.toString(), "-w",
                "-t", Integer.toString(PG_CTL_WAIT_SECONDS), "promote");
        PgProcessRunner.Result r = runner.run(cmd, Duration.ofSeconds(PG_CTL_WAIT_SECONDS + 30));
        if (!r.ok()) {
            throw ClusterException.step("promoting " + name + " failed", cmd, r.exitCode(), r.output(), logFile(), null);
        }
    }

    /** Fast shutdown via pg_ctl; falls back to SIGQUIT, then SIGKILL. */
    void stop(Duration timeout) {
        if (!isRunning()) {
            return;
        }
        log.accept(name + ": stopping");
        List<String> cmd = List.of(binaries.bin("pg_ctl").toString(), "-D", dir.toString(), "-m", "fast", "-w",
                "-t", Long.toString(Math.max(5, timeout.toSeconds())), "stop");
        PgProcessRunner.Result r = null;
        try {
            r = runner.run(cmd, timeout.plusSeconds(15));
        } catch (ClusterException e) {
            log.accept(name + ": pg_ctl stop failed: " + e.getMessage());
        }
        if (r != null && r.ok() && !isRunning()) {
            return;
        }
        Optional<Long> pid = pid();
        if (pid.isPresent()) {
            log.accept(name + ": pg_ctl stop did not finish, sending SIGQUIT to " + pid.get());
            PgProcessRunner.runRaw(List.of("kill", "-QUIT", pid.get().toString()), Duration.ofSeconds(10));
            if (!PgJdbc.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !isRunning())) {
                ProcessHandle.of(pid.get()).ifPresent(ProcessHandle::destroyForcibly);
                PgJdbc.await(Duration.ofSeconds(5), Duration.ofMillis(100), () -> !isRunning());
            }
        }
        if (isRunning()) {
            throw ClusterException.step("could not stop " + name, cmd, r == null ? null : r.exitCode(),
                    r == null ? null : r.output(), logFile(), null);
        }
    }

    /**
     * SIGKILL to the postmaster, as a crash would (no shutdown checkpoint); waits until it and every process it had
     * started have exited (its children notice the postmaster's death and exit by themselves; any still there after
     * {@code timeout} get SIGKILL too), so that a later {@link #start()} finds no shared memory in use.
     */
    void kill(Duration timeout) {
        Optional<ProcessHandle> postmaster = pid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
        if (postmaster.isEmpty()) {
            throw new ClusterException(name + " is not running: nothing to kill");
        }
        List<ProcessHandle> children = postmaster.get().descendants().toList();
        log.accept(name + ": SIGKILL to postmaster " + postmaster.get().pid() + " (" + children.size() + " children)");
        postmaster.get().destroyForcibly();
        boolean gone = PgJdbc.await(timeout, Duration.ofMillis(20),
                () -> !postmaster.get().isAlive() && children.stream().noneMatch(ProcessHandle::isAlive));
        if (!gone) {
            children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            if (!PgJdbc.await(Duration.ofSeconds(10), Duration.ofMillis(20),
                    () -> !postmaster.get().isAlive() && children.stream().noneMatch(ProcessHandle::isAlive))) {
                throw new ClusterException(name + ": processes still alive 10 s after SIGKILL");
            }
        }
    }

    void stopQuietly() {
        try {
            stop(Duration.ofSeconds(20));
        } catch (RuntimeException e) {
            log.accept(name + ": " + e.getMessage());
        }
    }

    /** True when postmaster.pid names a live postgres process. */
    boolean isRunning() {
        return pid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().command().map(c -> c.contains("postgres") || c.contains("postmaster")).orElse(true))
                .isPresent();
    }

    Optional<Long> pid() {
        Path pidFile = dir.resolve("postmaster.pid");
        try {
            List<String> lines = Files.readAllLines(pidFile);
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static long size(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String readFrom(Path p, long offset) {
        try {
            byte[] all = Files.readAllBytes(p);
            int from = (int) Math.min(offset, all.length);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return name + "@" + PgJdbc.HOST + ":" + port + " (" + dir + ")";
    }
}

// purpose: makes sure servers die with the JVM: a shutdown hook, plus a detached watchdog for when the JVM is SIGKILLed
package io.pgbalancer.cluster;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The shutdown hook runs the cluster's normal stop on JVM exit (also on SIGINT/SIGTERM). A JVM killed with
 * SIGKILL runs no hooks, so a small {@code sh} watchdog (in its own session, output discarded) polls the JVM's
 * pid every second; once it is gone it sends SIGINT (fast shutdown) to every postmaster in the cluster dir,
 * SIGKILLs stragglers after 30 s and deletes the dir if the harness created it. close() ends both.
 */
final class ShutdownGuard implements AutoCloseable {
    private static final String WATCHDOG = String.join("\n",
            "# pgbalancer-cluster-watchdog", "jvm=\"$1\"; base=\"$2\"; del=\"$3\"",
            "while kill -0 \"$jvm\" 2>/dev/null; do sleep 1; done",
            "pids=''",
            "for f in \"$base\"/*/postmaster.pid; do",
            "  [ -f \"$f\" ] || continue",
            "  p=$(head -n 1 \"$f\")",
            "  case \"$p\" in ''|*[!0-9]*) continue;; esac",
            "  kill -INT \"$p\" 2>/dev/null && pids=\"$pids $p\"",
            "done",
            "i=0",
            "while [ $i -lt 30 ] && [ -n \"$pids\" ]; do",
            "  alive=''",
            "  for p in $pids; do kill -0 \"$p\" 2>/dev/null && alive=\"$alive $p\"; done",
            "  pids=\"$alive\"; i=$((i+1)); [ -n \"$pids\" ] && sleep 1",
            "done",
            "for p in $pids; do kill -KILL \"$p\" 2>/dev/null; done",
            "if [ \"$del\" = 1 ]; then rm -rf -- \"$base\"; fi",
            "");

    private final Thread hook;
    private final Process watchdog;

    ShutdownGuard(Path base, boolean deleteBase, Runnable onShutdown, Consumer<String> log) {
        this.hook = new Thread(onShutdown, "pgbalancer-cluster-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        this.watchdog = startWatchdog(base, deleteBase, log);
    }

    private static Process startWatchdog(Path base, boolean deleteBase, Consumer<String> log) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid"); // its own session: a terminal Ctrl-C must not kill it before the JVM's hook ran
        }
        // the script goes in on stdin (sh -s) so that ps shows only "sh -s <jvm pid> <dir> <delete>"
        cmd.addAll(List.of("/bin/sh", "-s", Long.toString(ProcessHandle.current().pid()),
                base.toAbsolutePath().toString(), deleteBase ? "1" : "0"));
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .directory(new File("/"))
                    .start();
            try (var in = p.getOutputStream()) {
                in.write(WATCHDOG.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            return p;
        } catch (IOException e) {
            log.accept("cannot start the cluster watchdog (servers may outlive a killed JVM): " + e.getMessage());
            return null;
        }
    }

    /** Removes the hook (unless the JVM is already shutting down) and ends the watchdog. */
    @Override
    public void close() {
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to; nothing to remove
            }
        }
        if (watchdog != null) {
            // setsid forks when it is a process-group leader; kill whatever it became as well
            watchdog.descendants().forEach(ProcessHandle::destroy);
            watchdog.destroy();
        }
    }
}

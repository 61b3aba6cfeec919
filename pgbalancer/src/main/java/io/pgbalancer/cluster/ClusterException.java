// purpose: unchecked failure of the local PostgreSQL cluster harness; says what failed, the command, its exit code and the server log tail
package io.pgbalancer.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

public final class ClusterException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final int LOG_TAIL_LINES = 30;

    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A failed step, optionally with the command that ran, its exit code, its output and the server log. */
    static ClusterException step(String what, List<String> command, Integer exitCode, String output,
                                 Path serverLog, Throwable cause) {
        StringBuilder sb = new StringBuilder(what);
        if (command != null && !command.isEmpty()) {
            sb.append("\n  command: ").append(String.join(" ", command));
        }
        if (exitCode != null) {
            sb.append("\n  exit code: ").append(exitCode);
        }
        if (output != null && !output.isBlank()) {
            sb.append("\n  output:");
            appendIndented(sb, lastLines(output, LOG_TAIL_LINES));
        }
        if (serverLog != null) {
            sb.append("\n  server log ").append(serverLog).append(" (last ").append(LOG_TAIL_LINES).append(" lines):");
            appendIndented(sb, tail(serverLog, LOG_TAIL_LINES));
        }
        return cause == null ? new ClusterException(sb.toString()) : new ClusterException(sb.toString(), cause);
    }

    static ClusterException step(String what, Path serverLog, Throwable cause) {
        return step(what, null, null, null, serverLog, cause);
    }

    /** The last {@code n} lines of a log file, or a note saying why it cannot be read. */
    static String tail(Path log, int n) {
        if (log == null || !Files.isRegularFile(log)) {
            return "(no log file" + (log == null ? "" : " at " + log) + ")";
        }
        try {
            long size = Files.size(log);
            long from = Math.max(0, size - 64 * 1024);
            byte[] bytes;
            try (var ch = Files.newByteChannel(log)) {
                ch.position(from);
                var buf = java.nio.ByteBuffer.allocate((int) (size - from));
                while (buf.hasRemaining() && ch.read(buf) > 0) {
                    // keep reading
                }
                bytes = java.util.Arrays.copyOf(buf.array(), buf.position());
            }
            return lastLines(new String(bytes, StandardCharsets.UTF_8), n);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    static String lastLines(String text, int n) {
        Deque<String> lines = new ArrayDeque<>();
        for (String line : text.split("\\R")) {
            lines.addLast(line);
            if (lines.size() > n) {
                lines.removeFirst();
            }
        }
        return String.join("\n", lines);
    }

    private static void appendIndented(StringBuilder sb, String text) {
        for (String line : text.split("\\R")) {
            sb.append("\n    ").append(line);
        }
    }
}

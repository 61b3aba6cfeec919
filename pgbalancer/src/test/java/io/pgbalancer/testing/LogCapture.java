// purpose: collects WARN and ERROR log events (with their exceptions) so a test can fail on an unexpected one
package io.pgbalancer.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Installed on the root logger; while installed, io.pgbalancer logs at WARN (the fuzz tests log an INFO line per
 * refused login otherwise). ClientHandler logs an exception that reached it (anything but a protocol violation or an
 * I/O error) at WARN with the exception: for a fuzz test that is an exception escaping a parser.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final List<String> events = new ArrayList<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger project = (Logger) LoggerFactory.getLogger("io.pgbalancer");
    private final Level projectLevel = project.getLevel();

    public LogCapture() {
        setName("test-capture");
        setContext(root.getLoggerContext());
        start();
        root.addAppender(this);
        project.setLevel(Level.WARN);
    }

    @Override
    protected synchronized void append(ILoggingEvent e) {
        if (e.getLevel().isGreaterOrEqual(Level.WARN)) {
            StringBuilder s = new StringBuilder(e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage());
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                s.append("\n  caused by ").append(t.getClassName()).append(": ").append(t.getMessage());
                var frames = t.getStackTraceElementProxyArray();
                for (int i = 0; i < Math.min(frames.length, 12); i++) {
                    s.append("\n    ").append(frames[i].getSTEAsString());
                }
            }
            events.add(s.toString());
        }
    }

    /** The events since the last call, and forgets them. */
    public synchronized List<String> take() {
        List<String> out = new ArrayList<>(events);
        events.clear();
        return out;
    }

    @Override
    public void close() {
        root.detachAppender(this);
        project.setLevel(projectLevel);
        stop();
    }
}

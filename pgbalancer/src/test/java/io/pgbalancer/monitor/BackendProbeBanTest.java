// purpose: a server that accepts connections and never answers stays banned from reads for as long as the monitor's
// polls of it keep failing, the time each failed poll waits included.
package io.pgbalancer.monitor;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Monitor;
import io.pgbalancer.config.Role;
import io.pgbalancer.routing.BackendNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BackendProbeBanTest {
    /** Accepts, reads and never writes. */
    private static final class BlackHole implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> sockets = new CopyOnWriteArrayList<>();

        BlackHole() throws IOException {
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        sockets.add(s);
                        Thread r = new Thread(() -> {
                            try (InputStream in = s.getInputStream()) {
                                while (in.read() >= 0) {
                                    // never answer
                                }
                            } catch (IOException e) {
                                // closed
                            }
                        });
                        r.setDaemon(true);
                        r.start();
                    } catch (IOException e) {
                        // closed
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void staysBannedWhileTheNextPollWaitsForAServerThatNeverAnswers() throws Exception {
        try (BlackHole hole = new BlackHole()) {
            BackendNode node = new BackendNode(new Backend("127.0.0.1", hole.server.getLocalPort(), Role.REPLICA, 1,
                    null));
            Monitor settings = new Monitor(Duration.ofMillis(100), Duration.ofMillis(1), Duration.ofMillis(500),
                    Duration.ofSeconds(1), "nobody", "nothing", "postgres");
            try (BackendProbe probe = new BackendProbe(node, settings, io.pgbalancer.config.BackendTls.defaults())) {
                PrimaryHistory primary = new PrimaryHistory();
                for (int poll = 1; poll <= 3; poll++) {
                    long backoff = probe.poll(primary); // fails after the connect timeout: the server never answers
                    assertFalse(node.status().reachable());
                    assertTrue(node.isBanned(), "banned right after failed poll " + poll);
                    long nextPollStarts = System.nanoTime() + backoff;
                    // as the monitor's thread does: wait out the backoff, then the next poll, which waits as long
                    while (System.nanoTime() - nextPollStarts < 0) {
                        Thread.sleep(5);
                    }
                    long pollEnds = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(450);
                    while (System.nanoTime() - pollEnds < 0) {
                        assertTrue(node.isBanned(), "the ban lapsed while poll " + (poll + 1) + " was still waiting");
                        Thread.sleep(20);
                    }
                }
            }
        }
    }
}

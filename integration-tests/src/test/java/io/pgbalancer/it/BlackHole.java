// purpose: test helper for FaultMatrixIT: a "server" that accepts TCP connections, reads what it is sent and never
// answers, as a hung host or a half-open network path looks to pgbalancer.
package io.pgbalancer.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

final class BlackHole implements AutoCloseable {
    private final ServerSocket server = new ServerSocket();
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    /** When each of pgbalancer's pool logins arrived (System.nanoTime()): a startup packet as the first thing sent. */
    private final List<Long> poolLogins = new CopyOnWriteArrayList<>();

    BlackHole() throws IOException {
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.add(s);
                    long at = System.nanoTime();
                    Thread reader = new Thread(() -> swallow(s, at), "black-hole-reader");
                    reader.setDaemon(true);
                    reader.start();
                } catch (IOException e) {
                    // closed
                }
            }
        }, "black-hole-accept");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Reads and drops everything. A connection that starts with a startup packet is a pool login of pgbalancer's; the
     * monitor's pgjdbc starts with an SSLRequest, and waits for its answer forever.
     */
    private void swallow(Socket s, long acceptedAt) {
        byte[] buf = new byte[4096];
        try (s; InputStream in = s.getInputStream()) {
            byte[] head = in.readNBytes(8);
            if (head.length == 8 && java.nio.ByteBuffer.wrap(head).getInt(4) == 196608) { // protocol 3.0
                poolLogins.add(acceptedAt);
            }
            while (in.read(buf) >= 0) {
                // never answer
            }
        } catch (IOException e) {
            // the peer gave up
        }
    }

    int port() {
        return server.getLocalPort();
    }

    /** pgbalancer's pool logins that arrived after {@code sinceNanos}. */
    long poolLoginsSince(long sinceNanos) {
        return poolLogins.stream().filter(t -> t - sinceNanos > 0).count();
    }

    int poolLogins() {
        return poolLogins.size();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.size();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : accepted) {
            s.close();
        }
    }
}

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

    BlackHole() throws IOException {
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.add(s);
                    Thread reader = new Thread(() -> swallow(s), "black-hole-reader");
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

    /** Reads and drops everything: a startup packet or an SSLRequest waits for its answer forever. */
    private static void swallow(Socket s) {
        byte[] buf = new byte[4096];
        try (s; InputStream in = s.getInputStream()) {
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

// purpose: test helper: a TCP relay in front of a real server that makes one backend connection die at a chosen
// moment (a simple Query from pgbalancer, or right after answering a marked client query), as pg_terminate_backend
// or a crash would; every other connection and message passes unchanged.
package io.pgbalancer.it;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

final class DyingServer implements AutoCloseable {
    private static final int SSL_REQUEST = 80877103;

    enum Death {
        /** At the first simple Query pgbalancer sends (its hidden settings query): close without an answer. */
        CLOSE_AT_QUERY,
        /** At the first simple Query pgbalancer sends: answer FATAL 57P01, then close. */
        FATAL_AT_QUERY,
        /** Right behind the ReadyForQuery that ends the first cycle whose messages contain {@link #MARK}: FATAL 57P01
         * in the same write, then close (the server terminated the backend just after the transaction). */
        FATAL_AFTER_MARKED_CYCLE
    }

    static final String MARK = "die-after-this";

    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final Death death;
    private final AtomicInteger deaths = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    DyingServer(int target, Death death) throws IOException {
        this.death = death;
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket in = server.accept();
                    Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
                    sockets.add(in);
                    sockets.add(out);
                    AtomicBoolean marked = new AtomicBoolean();
                    AtomicBoolean monitor = new AtomicBoolean();
                    start(() -> pump(in, out, true, marked, monitor));
                    start(() -> pump(out, in, false, marked, monitor));
                } catch (IOException e) {
                    // closed
                }
            }
        }, "dying-server");
        accept.setDaemon(true);
        accept.start();
    }

    private static void start(Runnable r) {
        Thread t = new Thread(r, "dying-server-pump");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Copies frames; {@code toServer}: pgbalancer's side, whose first frame is the untyped startup packet. The
     * monitor's connections (application_name pgbalancer-monitor) never die.
     */
    private void pump(Socket from, Socket to, boolean toServer, AtomicBoolean marked, AtomicBoolean monitor) {
        try (from; to) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(from.getInputStream()));
            OutputStream o = to.getOutputStream();
            boolean typed = !toServer;
            while (true) {
                int type = typed ? in.read() : 0;
                if (type < 0) {
                    return;
                }
                int len = in.readInt();
                byte[] body = new byte[len - 4];
                in.readFully(body);
                if (!typed && len == 8 && ByteBuffer.wrap(body).getInt() == SSL_REQUEST) {
                    from.getOutputStream().write('N'); // pgjdbc's SSLRequest (the monitor's): no TLS here
                    continue;
                }
                if (!typed && new String(body, StandardCharsets.UTF_8).contains("pgbalancer-monitor")) {
                    monitor.set(true);
                }
                if (toServer && type == 'Q' && death != Death.FATAL_AFTER_MARKED_CYCLE && !monitor.get()
                        && deaths.get() == 0) {
                    if (deaths.incrementAndGet() == 1) {
                        if (death == Death.FATAL_AT_QUERY) {
                            from.getOutputStream().write(fatal());
                        }
                        return; // closes both sockets
                    }
                }
                if (toServer && death == Death.FATAL_AFTER_MARKED_CYCLE
                        && new String(body, StandardCharsets.UTF_8).contains(MARK)) {
                    marked.set(true);
                }
                ByteBuffer frame = ByteBuffer.allocate((typed ? 1 : 0) + len);
                if (typed) {
                    frame.put((byte) type);
                }
                frame.putInt(len).put(body);
                if (!toServer && type == 'Z' && marked.get() && deaths.get() == 0 && deaths.incrementAndGet() == 1) {
                    byte[] fatal = fatal();
                    o.write(ByteBuffer.allocate(frame.capacity() + fatal.length).put(frame.array()).put(fatal)
                            .array());
                    o.flush();
                    return;
                }
                o.write(frame.array());
                o.flush();
                typed = true;
            }
        } catch (IOException e) {
            // one side went away
        }
    }

    /** What PostgreSQL sends a backend that pg_terminate_backend ends. */
    private static byte[] fatal() {
        byte[] fields = ("SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0")
                .getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(5 + fields.length).put((byte) 'E').putInt(4 + fields.length).put(fields).array();
    }

    int port() {
        return server.getLocalPort();
    }

    /** How many connections it has made die (at most one). */
    int deaths() {
        return deaths.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}

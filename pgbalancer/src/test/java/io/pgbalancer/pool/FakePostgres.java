// A loopback stand-in for a PostgreSQL server: trust login, one canned answer per Query and Sync, or a refused login.
package io.pgbalancer.pool;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Each accepted connection is served by its own daemon thread. After the startup packet it either logs the client
 * in (AuthenticationOk, a ParameterStatus, BackendKeyData with a fresh process id, ReadyForQuery) or, when
 * {@link #refuseWith} is set, answers with a FATAL ErrorResponse of that SQLSTATE and hangs up, as a server that is
 * starting up or shutting down does. Logged in, it answers every Query with CommandComplete "SELECT 1" and
 * ReadyForQuery, every Sync with ReadyForQuery, and stops at Terminate or EOF.
 */
public final class FakePostgres implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;
    private final AtomicInteger nextPid = new AtomicInteger(1000);
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger terminated = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<String> queries = new CopyOnWriteArrayList<>();
    private volatile String refuseWith;

    public FakePostgres() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "fake-postgres-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** From now on, refuse every login with FATAL {@code sqlState}; null logs clients in again. */
    public void refuseWith(String sqlState) {
        refuseWith = sqlState;
    }

    /** TCP connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Connections that ended with a Terminate message. */
    public int terminated() {
        return terminated.get();
    }

    /** The text of every Query received, in arrival order. */
    public List<String> queries() {
        return List.copyOf(queries);
    }

    /** Connections this server still has open. */
    public int open() {
        return (int) sockets.stream().filter(s -> !s.isClosed()).count();
    }

    /** Closes every connection from the server's side, as a crashed or restarted server would. */
    public void dropAll() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }

    @Override
    /**
     * Stops listening before it returns: a connection attempt after close() is refused. (Closing a ServerSocket
     * while another thread is blocked in accept() is deferred until that thread wakes, and until then the socket can
     * still take a connection; so the acceptor is waited for.)
     */
    public void close() {
        closeQuietly(server);
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dropAll();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                accepted.incrementAndGet();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "fake-postgres-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s; DataInputStream in = new DataInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            int length = in.readInt();
            in.readFully(new byte[length - 4]); // protocol version and parameters
            String refusal = refuseWith;
            if (refusal != null) {
                out.write(message('E', fields('S', "FATAL", 'V', "FATAL", 'C', refusal, 'M',
                        "fake server refuses logins (" + refusal + ")")));
                out.flush();
                return;
            }
            ByteArrayOutputStream welcome = new ByteArrayOutputStream();
            welcome.write(message('R', ByteBuffer.allocate(4).putInt(0).array()));
            welcome.write(message('S', cstrings("server_version", "15.0")));
            welcome.write(message('K', ByteBuffer.allocate(8).putInt(nextPid.getAndIncrement()).putInt(42).array()));
            welcome.write(ready());
            out.write(welcome.toByteArray());
            out.flush();
            while (true) {
                int type = in.read();
                if (type < 0) {
                    return;
                }
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                switch (type) {
                    case 'X' -> {
                        terminated.incrementAndGet();
                        return;
                    }
                    case 'Q' -> {
                        queries.add(new String(body, 0, body.length - 1, StandardCharsets.UTF_8));
                        ByteArrayOutputStream answer = new ByteArrayOutputStream();
                        answer.write(message('C', cstrings("SELECT 1")));
                        answer.write(ready());
                        out.write(answer.toByteArray());
                        out.flush();
                    }
                    case 'S' -> {
                        out.write(ready());
                        out.flush();
                    }
                    default -> {
                        // Parse, Bind, Execute...: no answers needed by the tests using this server
                    }
                }
            }
        } catch (EOFException | java.net.SocketException e) {
            // the client or dropAll closed the connection
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] ready() {
        return message('Z', new byte[] {'I'});
    }

    private static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    private static byte[] cstrings(String... values) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String v : values) {
            b.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        return b.toByteArray();
    }

    /** ErrorResponse fields: a field type character, then its value, and so on. */
    private static byte[] fields(Object... typeThenValue) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < typeThenValue.length; i += 2) {
            b.write((Character) typeThenValue[i]);
            b.writeBytes(cstrings((String) typeThenValue[i + 1]));
        }
        b.write(0);
        return b.toByteArray();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}

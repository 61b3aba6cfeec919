// A minimal PostgreSQL client over any socket (plain or TLS): startup, SCRAM login (with channel binding), one query.
package io.pgbalancer.it;

import io.pgbalancer.protocol.auth.ScramClientExchange;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

final class RawLogin {
    /** A message read from the server: its type and body. */
    record Message(char type, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final DataInputStream in;
    private final DataOutputStream out;

    RawLogin(Socket socket) throws IOException {
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    static byte[] startupPacket(String user, String database) {
        byte[] params = ("user\0" + user + "\0database\0" + database + "\0\0").getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + params.length);
        b.putInt(8 + params.length).putInt(196608).put(params);
        return b.array();
    }

    static byte[] sslRequest() {
        return java.nio.ByteBuffer.allocate(8).putInt(8).putInt(80877103).array();
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    /**
     * Sends the startup packet and logs in with SCRAM; returns the mechanisms the server offered. With a
     * {@code channelBinding} (the server certificate's tls-server-end-point hash) it binds when offered -PLUS.
     */
    List<String> login(String user, String database, String password, byte[] channelBinding) throws IOException {
        send(startupPacket(user, database));
        Message m = read();
        expect(m, 'R');
        java.nio.ByteBuffer body = java.nio.ByteBuffer.wrap(m.body());
        if (body.getInt() != 10) {
            throw new IOException("expected AuthenticationSASL, got " + m);
        }
        List<String> mechanisms = new ArrayList<>();
        for (String s : new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8).split("\0")) {
            if (!s.isEmpty()) {
                mechanisms.add(s);
            }
        }
        try {
            ScramClientExchange scram = new ScramClientExchange(password, mechanisms, channelBinding);
            byte[] first = scram.clientFirst();
            byte[] mech = (scram.mechanism() + "\0").getBytes(StandardCharsets.US_ASCII);
            java.nio.ByteBuffer initial = java.nio.ByteBuffer.allocate(1 + 4 + mech.length + 4 + first.length);
            initial.put((byte) 'p').putInt(4 + mech.length + 4 + first.length).put(mech).putInt(first.length)
                    .put(first);
            send(initial.array());
            m = expect(read(), 'R');
            byte[] serverFirst = java.util.Arrays.copyOfRange(m.body(), 4, m.body().length);
            byte[] fin = scram.clientFinal(serverFirst);
            java.nio.ByteBuffer response = java.nio.ByteBuffer.allocate(1 + 4 + fin.length);
            response.put((byte) 'p').putInt(4 + fin.length).put(fin);
            send(response.array());
            m = expect(read(), 'R');
            scram.verifyServerFinal(java.util.Arrays.copyOfRange(m.body(), 4, m.body().length));
        } catch (io.pgbalancer.protocol.auth.AuthenticationFailedException e) {
            throw new IOException(e);
        }
        for (m = read(); m.type() != 'Z'; m = read()) {
            if (m.type() == 'E') {
                throw new IOException("login failed: " + m.text());
            }
        }
        return mechanisms;
    }

    /** Runs one simple query and returns the first column of its first row. */
    String queryOne(String sql) throws IOException {
        byte[] text = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        send(java.nio.ByteBuffer.allocate(5 + text.length).put((byte) 'Q').putInt(4 + text.length).put(text).array());
        String value = null;
        for (Message m = read(); m.type() != 'Z'; m = read()) {
            if (m.type() == 'E') {
                throw new IOException("query failed: " + m.text());
            }
            if (m.type() == 'D' && value == null) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(m.body());
                b.getShort();
                int len = b.getInt();
                value = len < 0 ? null : new String(m.body(), 6, len, StandardCharsets.UTF_8);
            }
        }
        return value;
    }

    private static Message expect(Message m, char type) throws IOException {
        if (m.type() != type) {
            throw new IOException("expected '" + type + "', got '" + m.type() + "': " + m.text());
        }
        return m;
    }
}

// purpose: bad logins, malformed messages, a down backend and protocol negotiation each get the right answer, and other clients are unaffected.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

class BadInputIT {
    private static final int PROTOCOL_3_0 = 196608;
    private static final int PROTOCOL_3_2 = 196610;
    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;
    private static final int MAX_MESSAGE = 64 * 1024;

    /** Clients log in to this proxy without a password; the proxy still logs in to the backends as app. */
    private static final String TRUST_PROXY = String.join("\n",
            "pool: {mode: transaction, size: 2, checkout_timeout: 5s}",
            "auth:",
            "  method: trust",
            "  users:",
            "    - {name: app, password: \"${APP_PASSWORD}\"}",
            "    - {name: trustuser}",
            "limits: {max_message_size: 64kB}",
            "");

    // ---------------------------------------------------------------- authentication failures

    @Test
    void wrongPasswordIsFatal28P01() throws Exception {
        try (TestProxy proxy = TestProxy.start(2)) {
            withBystanders(proxy::connect, () -> {
                PSQLException e = loginFailure(proxy.jdbcUrl("app"), "app", "not-the-password");
                assertEquals("28P01", e.getSQLState());
                assertEquals("FATAL", e.getServerErrorMessage().getSeverity());
                assertEquals("password authentication failed for user \"app\"", e.getServerErrorMessage().getMessage());
            });
        }
    }

    @Test
    void unknownUserGetsTheSameAnswerAsAWrongPassword() throws Exception {
        try (TestProxy proxy = TestProxy.start(2)) {
            withBystanders(proxy::connect, () -> {
                PSQLException wrong = loginFailure(proxy.jdbcUrl("app"), "app", "not-the-password");
                PSQLException unknown = loginFailure(proxy.jdbcUrl("app"), "nosuchuser", "not-the-password");
                assertEquals("28P01", unknown.getSQLState());
                assertEquals(wrong.getServerErrorMessage().getSeverity(), unknown.getServerErrorMessage().getSeverity());
                assertEquals(wrong.getServerErrorMessage().getMessage().replace("\"app\"", "\"nosuchuser\""),
                        unknown.getServerErrorMessage().getMessage());
                assertEquals(null, unknown.getServerErrorMessage().getDetail(), "no detail may hint at the reason");
                assertEquals(null, unknown.getServerErrorMessage().getHint(), "no hint may hint at the reason");

                // The SCRAM exchange itself must not give the unknown name away: a challenge like a real user's,
                // with the same iteration count and salt size, and a salt that is stable across attempts.
                ScramChallenge known1 = scramChallenge(proxy.port(), "app");
                ScramChallenge known2 = scramChallenge(proxy.port(), "app");
                ScramChallenge missing1 = scramChallenge(proxy.port(), "nosuchuser");
                ScramChallenge missing2 = scramChallenge(proxy.port(), "nosuchuser");
                assertEquals(known1.salt(), known2.salt());
                assertEquals(missing1.salt(), missing2.salt(), "an unknown user's salt must not change per attempt");
                assertEquals(known1.iterations(), missing1.iterations());
                assertEquals(known1.salt().length(), missing1.salt().length());
                assertFalse(known1.salt().equals(missing1.salt()));
            });
        }
    }

    @Test
    void unknownDatabasePassesTheBackendsFatal3D000() throws Exception {
        try (TestProxy proxy = TestProxy.start(2)) {
            withBystanders(proxy::connect, () -> {
                PSQLException e = loginFailure(proxy.jdbcUrl("pgb_no_such_db"), "app", TestCluster.APP_PASSWORD);
                assertEquals("3D000", e.getSQLState(), e.toString());
                assertEquals("FATAL", e.getServerErrorMessage().getSeverity());
                assertEquals("database \"pgb_no_such_db\" does not exist", e.getServerErrorMessage().getMessage());
            });
        }
    }

    // ---------------------------------------------------------------- malformed client messages

    @Test
    void queryWithLengthTwoIsAProtocolViolation() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                try (RawPg raw = RawPg.loggedIn(proxy.port(), "app")) {
                    raw.sendRaw(typedHeader('Q', 2));
                    raw.expectFatal("08P01", "after a 'Q' message with length 2");
                    raw.assertClosed();
                }
            });
        }
    }

    @Test
    void unknownMessageTypeIsAProtocolViolation() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                try (RawPg raw = RawPg.loggedIn(proxy.port(), "app")) {
                    raw.sendRaw(typedHeader('y', 4));
                    raw.expectFatal("08P01", "after a message of unknown type 'y'");
                    raw.assertClosed();
                }
            });
        }
    }

    @Test
    void unknownMessageTypeWhileWaitingForABackendIsAProtocolViolation() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY + TestProxy.metricsYaml())) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                // the bystander holds one of the 2 backends; this holder takes the other, so the bad message waits
                try (Connection holder = trustConnect(proxy, "app");
                     RawPg raw = RawPg.loggedIn(proxy.port(), "app")) {
                    holder.setAutoCommit(false);
                    Statement st = holder.createStatement();
                    intQuery(st, "select 1");
                    raw.sendRaw(typedHeader('y', 4));
                    Poll.until(Duration.ofSeconds(5), "the raw client to wait for a backend", () ->
                            proxy.metric("pgbalancer_pool_waiting") == 1);
                    holder.commit(); // frees a backend: the queued 'y' reaches the relay now
                    raw.expectFatal("08P01", "after a message of unknown type 'y' sent while the pool was busy");
                    raw.assertClosed();
                    assertEquals(3, intQuery(st, "select 3"));
                    holder.commit();
                }
            });
        }
    }

    @Test
    void messageAboveMaxMessageSizeIsRejectedBeforeItsBodyArrives() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                // just below the limit still works
                try (Connection c = trustConnect(proxy, "app"); Statement st = c.createStatement()) {
                    ResultSet rs = st.executeQuery("select length('" + "x".repeat(MAX_MESSAGE - 200) + "')");
                    rs.next();
                    assertEquals(MAX_MESSAGE - 200, rs.getInt(1));
                }
                try (RawPg raw = RawPg.loggedIn(proxy.port(), "app")) {
                    raw.sendRaw(typedHeader('Q', MAX_MESSAGE + 100)); // only the header: no body is ever sent
                    RawPg.Msg error = raw.expectFatal("08P01", "after a 'Q' header announcing "
                            + (MAX_MESSAGE + 100) + " bytes");
                    assertTrue(error.fields().get('M').contains(Integer.toString(MAX_MESSAGE + 100)),
                            "the message should name the offending length: " + error.fields());
                    raw.assertClosed();
                }
            });
        }
    }

    @Test
    void truncatedMessageFollowedByEofClosesOnlyThatClient() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                for (int i = 0; i < 3; i++) { // more times than the pool has connections: nothing may leak
                    try (RawPg raw = RawPg.loggedIn(proxy.port(), "app")) {
                        ByteArrayOutputStream partial = new ByteArrayOutputStream();
                        partial.writeBytes(typedHeader('Q', 4 + 20));
                        partial.writeBytes("select 1".getBytes(StandardCharsets.US_ASCII));
                        raw.sendRaw(partial.toByteArray());
                        raw.socket.shutdownOutput();
                        // PostgreSQL itself just logs "unexpected EOF" and closes; an 08P01 error first is fine too
                        RawPg.Msg m = raw.readOrEof();
                        if (m != null) {
                            assertEquals('E', m.type(), m.describe());
                            assertEquals("08P01", m.fields().get('C'), m.describe());
                        }
                        raw.assertClosed();
                    }
                }
            });
        }
    }

    @Test
    void garbageStartupPacketIsAProtocolViolation() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                try (RawPg raw = new RawPg(proxy.port())) {
                    raw.sendUntyped(0x00010000, cstrings("user", "app")); // protocol 1.0
                    raw.expectFatal("08P01", "after a startup packet for protocol 1.0");
                    raw.assertClosed();
                }
                try (RawPg raw = new RawPg(proxy.port())) {
                    raw.sendRaw(new byte[] {0, 0, 0, 2}); // length below the minimum
                    raw.expectFatal("08P01", "after a startup packet with length 2");
                    raw.assertClosed();
                }
            });
        }
    }

    // ---------------------------------------------------------------- backend down

    @Test
    void backendDownGivesAnErrorNamingHostPortAndCause() throws Exception {
        try (Forwarder forwarder = new Forwarder(TestCluster.get().primaryPort());
             TestProxy proxy = TestProxy.start(String.join("\n",
                     "pool: {mode: session, size: 2, checkout_timeout: 5s, connect_timeout: 2s}",
                     "backends:",
                     "  - {host: 127.0.0.1, port: " + forwarder.port + ", role: primary}",
                     // no wait for the primary to come back: a refused login fails at once with the cause
                     "routing: {primary_wait: 0s}",
                     ""))) {
            forwarder.up();
            try (Connection before = proxy.connect()) {
                before.setAutoCommit(false);
                Statement st = before.createStatement();
                int pid = intQuery(st, "select pg_backend_pid()");

                forwarder.down(); // the backend address now refuses connections; the open one keeps working
                long t0 = System.nanoTime();
                PSQLException e = assertThrows(PSQLException.class, proxy::connect);
                long millis = (System.nanoTime() - t0) / 1_000_000;
                String message = e.getServerErrorMessage() == null ? e.getMessage()
                        : e.getServerErrorMessage().getMessage();
                assertTrue(message.contains("127.0.0.1:" + forwarder.port), "names host:port: " + message);
                assertTrue(message.toLowerCase(Locale.ROOT).contains("refused"), "names the cause: " + message);
                assertTrue(e.getSQLState() != null && e.getSQLState().startsWith("08"), "SQLSTATE " + e.getSQLState());
                assertTrue(millis < 4_000, "a refused connection must fail fast, took " + millis + " ms");

                assertEquals(pid, intQuery(st, "select pg_backend_pid()"));
                before.commit();
                assertEquals(5, intQuery(st, "select 5"));
                before.commit();

                forwarder.up(); // back up: new clients get in again
                try (Connection after = proxy.connect(); Statement st2 = after.createStatement()) {
                    assertEquals(1, intQuery(st2, "select 1"));
                }
            }
        }
    }

    // ---------------------------------------------------------------- working logins

    @Test
    void md5AndCleartextBackendLoginsWorkBehindScramClients() throws Exception {
        try (TestProxy proxy = TestProxy.start(2)) {
            withBystanders(proxy::connect, () -> {
                for (String[] user : new String[][] {{"md5user", TestCluster.MD5_PASSWORD},
                        {"clearuser", TestCluster.CLEAR_PASSWORD}}) {
                    try (Connection c = DriverManager.getConnection(proxy.jdbcUrl("app"), user[0], user[1]);
                         Statement st = c.createStatement()) {
                        ResultSet rs = st.executeQuery("select current_user, inet_server_port(), "
                                + "(select count(*) from pg_stat_activity where usename = current_user)");
                        rs.next();
                        assertEquals(user[0], rs.getString(1));
                        assertEquals(TestCluster.get().primaryPort(), rs.getInt(2));
                        assertTrue(rs.getInt(3) >= 1);
                    }
                    PSQLException e = loginFailure(proxy.jdbcUrl("app"), user[0], "wrong");
                    assertEquals("28P01", e.getSQLState());
                }
            });
        }
    }

    @Test
    void md5ClientAuthenticationWorks() throws Exception {
        try (TestProxy proxy = TestProxy.start(String.join("\n",
                "pool: {mode: transaction, size: 2, checkout_timeout: 5s}",
                "auth:",
                "  method: md5",
                "  users:",
                "    - {name: app, password: \"${APP_PASSWORD}\"}",
                "    - {name: md5user, password: \"${MD5_PASSWORD}\"}",
                ""))) {
            withBystanders(proxy::connect, () -> {
                try (Connection c = DriverManager.getConnection(proxy.jdbcUrl("app"), "md5user",
                        TestCluster.MD5_PASSWORD); Statement st = c.createStatement()) {
                    ResultSet rs = st.executeQuery("select current_user");
                    rs.next();
                    assertEquals("md5user", rs.getString(1));
                }
                PSQLException wrong = loginFailure(proxy.jdbcUrl("app"), "app", "wrong");
                assertEquals("28P01", wrong.getSQLState());
                assertEquals("password authentication failed for user \"app\"",
                        wrong.getServerErrorMessage().getMessage());
                PSQLException unknown = loginFailure(proxy.jdbcUrl("app"), "nosuchuser", "wrong");
                assertEquals("28P01", unknown.getSQLState());
                assertEquals("password authentication failed for user \"nosuchuser\"",
                        unknown.getServerErrorMessage().getMessage());
            });
        }
    }

    @Test
    void trustClientAuthenticationWorks() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                for (String user : List.of("app", "trustuser")) {
                    try (Connection c = trustConnect(proxy, user); Statement st = c.createStatement()) {
                        ResultSet rs = st.executeQuery("select current_user");
                        rs.next();
                        assertEquals(user, rs.getString(1));
                    }
                }
                PSQLException e = assertThrows(PSQLException.class, () -> trustConnect(proxy, "nosuchuser"));
                assertEquals("28P01", e.getSQLState());
                assertEquals("password authentication failed for user \"nosuchuser\"",
                        e.getServerErrorMessage().getMessage());
            });
        }
    }

    // ---------------------------------------------------------------- protocol negotiation

    @Test
    void protocol32StartupGetsNegotiateProtocolVersion() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                try (RawPg raw = new RawPg(proxy.port())) {
                    raw.sendUntyped(PROTOCOL_3_2, cstrings("user", "app", "database", "app"));
                    RawPg.Msg v = raw.expect('v');
                    assertEquals(0, v.int32(0), "newest minor version supported");
                    assertEquals(0, v.int32(4), "no unrecognized options");
                    raw.expectAuthOk();
                    raw.finishLogin();
                    assertEquals("3.2 negotiated down", raw.simpleQueryValue("select '3.2 negotiated down'"));
                }
            });
        }
    }

    @Test
    void protocolOptionGetsNegotiateProtocolVersion() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                try (RawPg raw = new RawPg(proxy.port())) {
                    raw.sendUntyped(PROTOCOL_3_0, cstrings("user", "app", "_pq_.pgb_it_option", "on",
                            "database", "app"));
                    RawPg.Msg v = raw.expect('v');
                    assertEquals(0, v.int32(0));
                    assertEquals(1, v.int32(4));
                    assertEquals("_pq_.pgb_it_option", v.cstring(8));
                    raw.expectAuthOk();
                    raw.finishLogin();
                    assertEquals("options ignored", raw.simpleQueryValue("select 'options ignored'"));
                }
            });
        }
    }

    @Test
    void sslAndGssEncRequestsAreAnsweredNThenPlainStartupWorks() throws Exception {
        try (TestProxy proxy = TestProxy.start(TRUST_PROXY)) {
            withBystanders(() -> trustConnect(proxy, "app"), () -> {
                try (RawPg raw = new RawPg(proxy.port())) {
                    raw.sendUntyped(SSL_REQUEST, new byte[0]);
                    assertEquals('N', raw.readSingleByte());
                    raw.sendUntyped(PROTOCOL_3_0, cstrings("user", "app", "database", "app"));
                    raw.expectAuthOk();
                    raw.finishLogin();
                    assertEquals("plain", raw.simpleQueryValue("select 'plain'"));
                }
                try (RawPg raw = new RawPg(proxy.port())) { // libpq's order: GSSENC, then SSL, then startup
                    raw.sendUntyped(GSSENC_REQUEST, new byte[0]);
                    assertEquals('N', raw.readSingleByte());
                    raw.sendUntyped(SSL_REQUEST, new byte[0]);
                    assertEquals('N', raw.readSingleByte());
                    raw.sendUntyped(PROTOCOL_3_0, cstrings("user", "app", "database", "app"));
                    raw.expectAuthOk();
                    raw.finishLogin();
                    assertEquals("plain again", raw.simpleQueryValue("select 'plain again'"));
                }
            });
        }
    }

    // ---------------------------------------------------------------- helpers

    interface ConnectionFactory {
        Connection open() throws SQLException;
    }

    interface BadInput {
        void run() throws Exception;
    }

    /**
     * Runs {@code bad} while a client that connected before it is mid-transaction; that client must keep its backend
     * and finish, and a client that connects afterwards must work.
     */
    private static void withBystanders(ConnectionFactory factory, BadInput bad) throws Exception {
        try (Connection before = factory.open()) {
            before.setAutoCommit(false);
            Statement st = before.createStatement();
            int pid = intQuery(st, "select pg_backend_pid()");
            bad.run();
            assertEquals(pid, intQuery(st, "select pg_backend_pid()"), "the bystander's transaction kept its backend");
            assertEquals(42, intQuery(st, "select 42"));
            before.commit();
            before.setAutoCommit(true);
            assertEquals(7, intQuery(st, "select 7"));
        }
        try (Connection after = factory.open(); Statement st = after.createStatement()) {
            assertEquals(1, intQuery(st, "select 1"));
        }
    }

    private static int intQuery(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    private static PSQLException loginFailure(String url, String user, String password) {
        PSQLException e = assertThrows(PSQLException.class, () -> DriverManager.getConnection(url, user, password).close());
        assertNotNull(e.getServerErrorMessage(), "expected an ErrorResponse from the server, got: " + e);
        return e;
    }

    private static Connection trustConnect(TestProxy proxy, String user) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        return DriverManager.getConnection(proxy.jdbcUrl("app"), p);
    }

    record ScramChallenge(String salt, int iterations) {
    }

    /** Starts SCRAM as {@code user} on a raw socket and returns the salt and iterations of the server-first message. */
    private static ScramChallenge scramChallenge(int port, String user) throws IOException {
        try (RawPg raw = new RawPg(port)) {
            raw.sendUntyped(PROTOCOL_3_0, cstrings("user", user, "database", "app"));
            RawPg.Msg sasl = raw.expect('R');
            assertEquals(10, sasl.int32(0), "AuthenticationSASL");
            assertEquals("SCRAM-SHA-256", sasl.cstring(4));
            byte[] clientFirst = "n,,n=,r=pgbalancerBadInputItNonce".getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(cstrings("SCRAM-SHA-256"));
            body.writeBytes(ByteBuffer.allocate(4).putInt(clientFirst.length).array());
            body.writeBytes(clientFirst);
            raw.send('p', body.toByteArray());
            RawPg.Msg cont = raw.expect('R');
            assertEquals(11, cont.int32(0), "AuthenticationSASLContinue");
            String serverFirst = new String(cont.body(), 4, cont.body().length - 4, StandardCharsets.US_ASCII);
            Map<String, String> attrs = new HashMap<>();
            for (String part : serverFirst.split(",")) {
                attrs.put(part.substring(0, 1), part.substring(2));
            }
            assertTrue(attrs.get("r").startsWith("pgbalancerBadInputItNonce"), serverFirst);
            return new ScramChallenge(attrs.get("s"), Integer.parseInt(attrs.get("i")));
        }
    }

    static byte[] typedHeader(char type, int length) {
        return ByteBuffer.allocate(5).put((byte) type).putInt(length).array();
    }

    static byte[] cstrings(String... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String v : values) {
            out.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        if (values.length % 2 == 0) {
            out.write(0); // name/value pairs end with an empty name
        }
        return out.toByteArray();
    }

    /** A bare-bones PostgreSQL wire client for what pgjdbc cannot be made to send. */
    static final class RawPg implements AutoCloseable {
        final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        record Msg(char type, byte[] body) {
            int int32(int at) {
                return ByteBuffer.wrap(body, at, 4).getInt();
            }

            String cstring(int at) {
                int end = at;
                while (body[end] != 0) {
                    end++;
                }
                return new String(body, at, end - at, StandardCharsets.UTF_8);
            }

            Map<Character, String> fields() {
                Map<Character, String> f = new HashMap<>();
                int at = 0;
                while (at < body.length && body[at] != 0) {
                    String value = cstring(at + 1);
                    f.put((char) body[at], value);
                    at += 2 + value.getBytes(StandardCharsets.UTF_8).length;
                }
                return f;
            }

            String describe() {
                return type == 'E' || type == 'N' ? "'" + type + "' " + fields() : "'" + type + "' (" + body.length
                        + " bytes)";
            }
        }

        RawPg(int port) throws IOException {
            socket = new Socket();
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(5_000);
            in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            out = socket.getOutputStream();
        }

        /** Logs in as {@code user} to database app on a trust proxy and reads up to the first ReadyForQuery. */
        static RawPg loggedIn(int port, String user) throws IOException {
            RawPg raw = new RawPg(port);
            raw.sendUntyped(PROTOCOL_3_0, cstrings("user", user, "database", "app"));
            raw.expectAuthOk();
            raw.finishLogin();
            return raw;
        }

        void sendUntyped(int code, byte[] payload) throws IOException {
            out.write(ByteBuffer.allocate(8 + payload.length).putInt(8 + payload.length).putInt(code).put(payload)
                    .array());
            out.flush();
        }

        void send(char type, byte[] body) throws IOException {
            out.write(ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array());
            out.flush();
        }

        void sendRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        char readSingleByte() throws IOException {
            int b = read(in);
            if (b < 0) {
                fail("connection closed instead of a one-byte answer");
            }
            return (char) b;
        }

        /** The next message, or null at EOF (a reset counts as EOF); fails when nothing arrives in time. */
        Msg readOrEof() throws IOException {
            int type;
            try {
                type = read(in);
            } catch (SocketException e) {
                return null;
            }
            if (type < 0) {
                return null;
            }
            try {
                int len = in.readInt();
                byte[] body = new byte[len - 4];
                in.readFully(body);
                return new Msg((char) type, body);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("pgbalancer stopped in the middle of a message", e);
            }
        }

        Msg expect(char type) throws IOException {
            Msg m = readOrEof();
            if (m == null) {
                fail("connection closed; expected message '" + type + "'");
            }
            assertEquals(type, m.type(), "unexpected message " + m.describe());
            return m;
        }

        void expectAuthOk() throws IOException {
            Msg r = expect('R');
            assertEquals(0, r.int32(0), "AuthenticationOk");
        }

        /** Reads ParameterStatus/BackendKeyData up to ReadyForQuery(idle). */
        void finishLogin() throws IOException {
            boolean key = false;
            while (true) {
                Msg m = readOrEof();
                assertNotNull(m, "connection closed during login");
                switch (m.type()) {
                    case 'S', 'N' -> {
                    }
                    case 'K' -> key = true;
                    case 'Z' -> {
                        assertTrue(key, "BackendKeyData before ReadyForQuery");
                        assertEquals('I', (char) m.body()[0]);
                        return;
                    }
                    default -> fail("unexpected message during login: " + m.describe());
                }
            }
        }

        String simpleQueryValue(String sql) throws IOException {
            send('Q', cstrings(sql));
            String value = null;
            List<String> seen = new ArrayList<>();
            while (true) {
                Msg m = expectAny();
                seen.add(m.describe());
                switch (m.type()) {
                    case 'D' -> {
                        int len = m.int32(2);
                        value = new String(m.body(), 6, len, StandardCharsets.UTF_8);
                    }
                    case 'E' -> fail("query failed: " + m.describe());
                    case 'Z' -> {
                        return value;
                    }
                    default -> {
                    }
                }
            }
        }

        private Msg expectAny() throws IOException {
            Msg m = readOrEof();
            assertNotNull(m, "connection closed");
            return m;
        }

        /** Expects an ErrorResponse with severity FATAL and the given SQLSTATE. */
        Msg expectFatal(String sqlState, String after) throws IOException {
            Msg m;
            try {
                m = readOrEof();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("pgbalancer answered nothing within 5 s " + after
                        + " (expected ErrorResponse " + sqlState + ")", e);
            }
            assertNotNull(m, "connection closed without an ErrorResponse " + after);
            assertEquals('E', m.type(), "expected an ErrorResponse " + after + ", got " + m.describe());
            assertEquals(sqlState, m.fields().get('C'), m.describe());
            assertEquals("FATAL", m.fields().get('S'), m.describe());
            return m;
        }

        /** The server must close the connection (EOF or reset) within the read timeout. */
        void assertClosed() throws IOException {
            try {
                Msg m = readOrEof();
                if (m != null) {
                    fail("expected the connection to be closed, got " + m.describe());
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("pgbalancer did not close the connection within 5 s", e);
            }
        }

        private static int read(InputStream in) throws IOException {
            return in.read();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A TCP relay in front of the primary whose listening socket can be closed (backend down) and reopened. */
    static final class Forwarder implements AutoCloseable {
        final int port = TestProxy.freePort();
        private final int target;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private volatile ServerSocket server;

        Forwarder(int target) {
            this.target = target;
        }

        synchronized void up() throws IOException {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            server = s;
            Thread accept = new Thread(() -> {
                while (!s.isClosed()) {
                    try {
                        Socket client = s.accept();
                        Socket backend = new Socket(InetAddress.getLoopbackAddress(), target);
                        sockets.add(client);
                        sockets.add(backend);
                        pump(client, backend);
                        pump(backend, client);
                    } catch (IOException e) {
                        // closed: the backend is "down" for new connections
                    }
                }
            }, "forwarder-accept");
            accept.setDaemon(true);
            accept.start();
        }

        synchronized void down() throws IOException {
            server.close();
        }

        private void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16 * 1024];
                try (from; to) {
                    InputStream i = from.getInputStream();
                    OutputStream o = to.getOutputStream();
                    for (int n; (n = i.read(buf)) >= 0; ) {
                        o.write(buf, 0, n);
                        o.flush();
                    }
                } catch (IOException | RuntimeException e) {
                    // one side went away: close both
                }
            }, "forwarder-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            if (server != null) {
                server.close();
            }
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}

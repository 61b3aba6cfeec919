// purpose: regression tests for the bug classes behind connection-pooler CVEs, against the real ClientHandler
package io.pgbalancer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.fuzz.Frontend;
import io.pgbalancer.fuzz.Msg;
import io.pgbalancer.fuzz.Mutate;
import io.pgbalancer.fuzz.ScramLogin;
import io.pgbalancer.fuzz.TrackingAllocator;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.auth.Md5Password;
import io.pgbalancer.reload.ConfigReloader;
import io.pgbalancer.server.HandlerRig.Reply;
import io.pgbalancer.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One test per way poolers have been broken, each with a comment naming the class of bug. All run on EmbeddedChannels
 * with the real ClientHandler, authenticator and sessions (see HandlerRig: servers are fakes that answer like
 * PostgreSQL and record what reached them). After every test: every buffer released, no exception logged, nothing left
 * counted. (Extra bytes after an SSLRequest are not here: TLS is being added to ClientHandler separately.)
 */
class PoolerCveRegressionTest {
    private final TrackingAllocator alloc = new TrackingAllocator();
    private final List<HandlerRig> rigs = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private LogCapture logs;

    @BeforeEach
    void capture() {
        logs = new LogCapture();
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        try {
            for (EmbeddedChannel ch : channels) {
                ch.close();
                ch.runPendingTasks();
                ch.checkException();
                ch.finishAndReleaseAll();
            }
            for (HandlerRig rig : rigs) {
                rig.refill();
                rig.assertAtRest();
            }
            assertEquals(List.of(), logs.take(), "nothing logged at WARN or above (an exception that escaped)");
            assertNull(alloc.unreleased());
        } finally {
            rigs.forEach(HandlerRig::close);
            logs.close();
        }
    }

    private HandlerRig rig(String method) throws Exception {
        return rig(method, HandlerRig.USERS, HandlerRig.LIMITS);
    }

    private HandlerRig rig(String method, String users, String limits) throws Exception {
        HandlerRig rig = new HandlerRig(method, alloc, users, limits);
        rigs.add(rig);
        return rig;
    }

    private EmbeddedChannel connect(HandlerRig rig) {
        EmbeddedChannel ch = rig.connect();
        channels.add(ch);
        return ch;
    }

    private static byte[] bytes(Msg... messages) {
        return Msg.concat(List.of(messages)).bytes();
    }

    /** The refusal: one FATAL ErrorResponse with {@code sqlState} and all its fields, then the connection closed. */
    private static ErrorFields assertRefused(EmbeddedChannel ch, List<Reply> got, String sqlState) {
        got.addAll(HandlerRig.received(ch));
        assertEquals(sqlState, HandlerRig.checkErrors(got), "the FATAL error among " + HandlerRig.types(got));
        ch.runPendingTasks();
        assertFalse(ch.isOpen(), "the connection stays open after FATAL");
        return got.get(got.size() - 1).error();
    }

    private static boolean authenticated(List<Reply> got) {
        return got.stream().anyMatch(m -> HandlerRig.authCode(m) == 0);
    }

    private static boolean console(List<Reply> got) {
        return got.stream().anyMatch(m -> m.type() == 'S'
                && m.text(0).startsWith("server_version\0" + "15.0 (pgbalancer)"));
    }

    /** Logs in honestly as app to db; asserts the welcome came. */
    private EmbeddedChannel loggedIn(HandlerRig rig) {
        EmbeddedChannel ch = connect(rig);
        List<Reply> got = rig.login(ch, "app", "db");
        assertTrue(authenticated(got) && got.get(got.size() - 1).type() == 'Z', "logged in: " + HandlerRig.types(got));
        return ch;
    }

    // =========================================================================================== unchecked lengths

    /** Unchecked lengths: a typed length below 4 (or negative) while authenticating is refused before anything else. */
    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 3})
    void aLengthBelowFourDuringAuthenticationIsAProtocolViolation(int length) throws Exception {
        HandlerRig rig = rig("scram-sha-256");
        EmbeddedChannel ch = connect(rig);
        rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db").bytes());
        List<Reply> got = HandlerRig.received(ch);
        rig.feed(ch, new byte[] {'p', (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8),
            (byte) length});
        assertRefused(ch, got, "08P01");
        assertFalse(authenticated(got));
    }

    /** Unchecked lengths: the same after login, where the session would otherwise frame the stream wrongly. */
    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 3})
    void aLengthBelowFourInASessionIsAProtocolViolation(int length) throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = loggedIn(rig);
        long before = rig.forwarded();
        byte[] q = Frontend.query("SELECT 1").bytes();
        Mutate.setInt(q, 1, length);
        rig.feed(ch, q);
        assertRefused(ch, new ArrayList<>(), "08P01");
        assertEquals(before, rig.forwarded(), "the malformed message reached a server");
    }

    /**
     * Unchecked lengths: a length above limits.max_message_size (8 kB here) is refused from the header alone, in both
     * phases, so a client cannot make the proxy buffer (or allocate) what it declares.
     */
    @ParameterizedTest
    @ValueSource(ints = {8 * 1024 + 1, 1 << 30, Integer.MAX_VALUE})
    void aLengthAboveTheLimitIsRefusedFromItsHeader(int length) throws Exception {
        for (boolean session : new boolean[] {false, true}) {
            HandlerRig rig = rig(session ? "trust" : "md5");
            EmbeddedChannel ch = session ? loggedIn(rig) : connect(rig);
            List<Reply> got = new ArrayList<>();
            if (!session) {
                rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app").bytes());
            }
            int made = alloc.count();
            rig.feed(ch, new byte[] {(byte) (session ? 'Q' : 'p'), (byte) (length >>> 24), (byte) (length >>> 16),
                (byte) (length >>> 8), (byte) length});
            ErrorFields e = assertRefused(ch, got, "08P01");
            assertTrue(e.message().contains(String.valueOf(length)), e.message());
            assertTrue(alloc.count() - made < 10, "buffers made for a refused header: " + (alloc.count() - made));
        }
    }

    /** Unchecked lengths: a message longer than what arrives is not parsed early; EOF then frees everything. */
    @Test
    void aMessageLongerThanWhatArrivesWaitsAndIsDroppedAtEof() throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = loggedIn(rig);
        long before = rig.forwarded();
        byte[] q = Frontend.query("SELECT 1").bytes();
        Mutate.setInt(q, 1, 1000);
        rig.feed(ch, q);
        assertTrue(ch.isOpen());
        assertEquals(List.of(), HandlerRig.received(ch));
        assertEquals(before, rig.forwarded(), "part of a message reached a server");
        // @AfterEach closes the connection: the partial message's buffer must be released
    }

    /** Unchecked lengths: startup packets whose length or parameter strings are inconsistent. */
    @ParameterizedTest
    @ValueSource(strings = {"length0", "length4", "length7", "length10001", "lengthMinus1", "unterminatedValue",
        "noFinalTerminator", "nameWithoutValue", "twoTerminators", "cancelTooShort", "sslTooLong"})
    void inconsistentStartupPacketsAreProtocolViolations(String kind) throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = connect(rig);
        byte[] good = Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db").bytes();
        byte[] bad = switch (kind) {
            case "length0" -> withLength(good, 0);
            case "length4" -> withLength(Arrays.copyOf(good, 4), 4);
            case "length7" -> withLength(Arrays.copyOf(good, 7), 7);
            case "length10001" -> withLength(good, 10_001);
            case "lengthMinus1" -> withLength(good, -1);
            case "unterminatedValue" -> withLength(Arrays.copyOf(good, good.length - 2), good.length - 2);
            case "noFinalTerminator" -> withLength(Arrays.copyOf(good, good.length - 1), good.length - 1);
            case "nameWithoutValue" -> Msg.untyped().int32(Frontend.PROTOCOL_3_0).cstr("user").cstr("app")
                    .cstr("database").raw((byte) 0).done().bytes();
            case "twoTerminators" -> withLength(Mutate.concat(good, new byte[] {0}), good.length + 1);
            case "cancelTooShort" -> Msg.untyped().int32(Frontend.CANCEL_REQUEST).int32(1).done().bytes();
            default -> Msg.untyped().int32(Frontend.SSL_REQUEST).int32(0).done().bytes();
        };
        rig.feed(ch, bad);
        List<Reply> got = new ArrayList<>();
        assertRefused(ch, got, "08P01");
        assertFalse(authenticated(got));
    }

    private static byte[] withLength(byte[] packet, int length) {
        byte[] b = packet.clone();
        Mutate.setInt(b, 0, length);
        return b;
    }

    /**
     * Unchecked lengths (found by fuzzing): Describe, Close and Execute too short to hold their fields, last in their
     * chunk. They were read past their end: an IndexOutOfBoundsException escaped, no ErrorResponse, no SQLSTATE.
     */
    @ParameterizedTest
    @ValueSource(chars = {'D', 'C', 'E', 'B', 'P'})
    void aMessageTooShortForItsFieldsIsAProtocolViolation(char type) throws Exception {
        for (boolean first : new boolean[] {true, false}) {
            HandlerRig rig = rig("trust");
            EmbeddedChannel ch = loggedIn(rig);
            long before = rig.forwarded();
            // first of its cycle (routing reads it) or after a Parse (the relay reads it), last in the chunk
            byte[] chunk = first ? bytes(Frontend.simple(type), Frontend.simple('S'))
                    : bytes(Msg.typed('P').cstr("").cstr("SELECT 1").count(0).done(), Frontend.simple(type));
            rig.feed(ch, chunk);
            assertRefused(ch, new ArrayList<>(), "08P01");
            assertEquals(before, rig.forwarded(), "the chunk with the malformed message reached a server");
        }
    }

    /** Unchecked lengths (found by fuzzing): a PasswordMessage with bytes after its string, as PostgreSQL refuses it. */
    @Test
    void aPasswordMessageWithBytesAfterItsStringIsAProtocolViolation() throws Exception {
        HandlerRig rig = rig("md5");
        EmbeddedChannel ch = connect(rig);
        rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db").bytes());
        List<Reply> got = HandlerRig.received(ch);
        byte[] salt = Arrays.copyOfRange(got.get(0).body(), 4, 8);
        String right = Md5Password.encode("app", HandlerRig.PASSWORD, salt);
        rig.feed(ch, Msg.typed('p').cstr(right).raw("Q\0".getBytes(StandardCharsets.US_ASCII)).done().bytes());
        assertRefused(ch, got, "08P01");
        assertFalse(authenticated(got), "authenticated with trailing bytes in the password message");
    }

    /**
     * Unchecked lengths (found by fuzzing): on the admin console, a Query whose text has no terminator inside its
     * length. The refusal was right, but the reply buffer being filled was never released.
     */
    @Test
    void anUnterminatedQueryOnTheConsoleIsRefusedWithoutALeak() throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = connect(rig);
        assertTrue(console(rig.login(ch, "admin", "pgbalancer")));
        rig.feed(ch, bytes(Frontend.query("SHOW VERSION"),
                Msg.typed('Q').raw("SHOW POOLS".getBytes(StandardCharsets.US_ASCII)).done()));
        assertRefused(ch, new ArrayList<>(), "08P01");
        // @AfterEach: every buffer released, the reply already holding SHOW VERSION's answer included
    }

    /** Unchecked lengths: a SASLInitialResponse whose data length disagrees with the message. */
    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 1, 1000, Integer.MAX_VALUE})
    void aSaslInitialResponseWithAWrongDataLengthFails(int delta) throws Exception {
        HandlerRig rig = rig("scram-sha-256");
        EmbeddedChannel ch = connect(rig);
        rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db").bytes());
        List<Reply> got = HandlerRig.received(ch);
        byte[] data = new ScramLogin(HandlerRig.PASSWORD, "n").clientFirst();
        int declared = delta == Integer.MAX_VALUE ? delta : delta == 0 ? -1 : data.length + delta;
        rig.feed(ch, Msg.typed('p').cstr("SCRAM-SHA-256").int32(declared).raw(data).done().bytes());
        got.addAll(HandlerRig.received(ch));
        String state = HandlerRig.checkErrors(got);
        assertTrue("28P01".equals(state) || "08P01".equals(state), "refused: " + state);
        assertFalse(ch.isOpen());
        assertFalse(authenticated(got));
    }

    /**
     * Unchecked lengths (found by fuzzing): a Bind of a statement pgbalancer answers itself (SHOW pgbalancer.*) with a
     * parameter length past the message; the read position overflowed and an IndexOutOfBoundsException escaped.
     * Now PostgreSQL's own error; the session goes on.
     */
    @ParameterizedTest
    @ValueSource(ints = {Integer.MAX_VALUE, Integer.MAX_VALUE - 3, 1000})
    void aVirtualBindWithAParameterLengthPastItsEndIsAnError(int length) throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = loggedIn(rig);
        rig.feed(ch, bytes(Msg.typed('P').cstr("").cstr("SHOW pgbalancer.min_lsn").count(0).done(),
                Msg.typed('B').cstr("").cstr("").count(0).count(2).int32(length).raw((byte) 'x').count(0).done(),
                Msg.typed('E').cstr("").int32(0).done(), Frontend.simple('S')));
        List<Reply> got = HandlerRig.received(ch);
        assertEquals("1EZ", HandlerRig.types(got));
        assertEquals("08P01", got.get(1).error().sqlState());
        assertTrue(ch.isOpen());
    }

    /**
     * Unchecked counts: a Bind whose parameter count disagrees with its data is PostgreSQL's to refuse; the proxy
     * passes it on byte for byte (a named statement's name replaced, the rest untouched) and does not misframe.
     */
    @Test
    void aBindWhoseCountsDisagreeWithItsDataIsPassedOnUntouched() throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = loggedIn(rig);
        byte[] bind = Msg.typed('B').cstr("").cstr("").count(0).count(5).int32(1).raw((byte) '1').count(0).done().bytes();
        rig.feed(ch, bytes(Msg.typed('P').cstr("").cstr("SELECT $1").count(0).done(), Msg.raw(bind),
                Frontend.simple('S')));
        List<Reply> got = HandlerRig.received(ch);
        assertEquals("12Z", HandlerRig.types(got), "the fake server answered each message");
        assertTrue(ch.isOpen());
        byte[] forwarded = rig.forwardedBytes();
        assertTrue(indexOf(forwarded, bind) >= 0, "the Bind was not passed on byte for byte");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (haystack[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ===================================================================================== errors without SQLSTATE

    /**
     * Errors without SQLSTATE: every error pgbalancer itself sends while a client connects carries S, V, M and a
     * five-character C, for each way it can refuse. (A server's error without one, passed on as FATAL, gets XX000:
     * see BackendLeaseTest and ServerMessagesTest.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"noUser", "replication", "protocol2", "badOptions", "wrongPassword", "unknownUser",
        "adminRefused", "userLimit", "clientLimit", "authTimeout", "violation"})
    void everyRefusalCarriesASqlState(String kind) throws Exception {
        HandlerRig rig = switch (kind) {
            case "wrongPassword", "unknownUser" -> rig("md5");
            case "userLimit" -> rig("trust", "[{name: app, password: secret, max_connections: 1}, {name: admin,"
                    + " password: secret}]", HandlerRig.LIMITS);
            case "clientLimit" -> rig("trust", HandlerRig.USERS, "{max_message_size: 8kB, max_client_connections: 1}");
            default -> rig("trust");
        };
        String expected = switch (kind) {
            case "noUser" -> "28000";
            case "replication", "protocol2", "violation" -> "08P01";
            case "badOptions" -> "22023";
            case "wrongPassword", "unknownUser" -> "28P01";
            case "adminRefused" -> "42501";
            default -> "53300";
        };
        if (kind.equals("userLimit") || kind.equals("clientLimit")) {
            assertTrue(authenticated(rig.login(connect(rig), "app", "db")), "the first connection takes the place");
        }
        EmbeddedChannel ch = connect(rig);
        List<Reply> got = new ArrayList<>();
        switch (kind) {
            case "noUser" -> rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "database", "db").bytes());
            case "replication" -> rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "replication",
                    "database").bytes());
            case "protocol2" -> rig.feed(ch, Frontend.startup(2 << 16, "user", "app").bytes());
            case "badOptions" -> rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "options",
                    "-x").bytes());
            case "wrongPassword", "unknownUser" -> {
                rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", kind.equals("wrongPassword") ? "app"
                        : "ghost").bytes());
                got.addAll(HandlerRig.received(ch));
                rig.feed(ch, Frontend.password("md5" + "0".repeat(32)).bytes());
            }
            case "adminRefused" -> got.addAll(rig.login(ch, "app", "pgbalancer"));
            case "userLimit", "clientLimit" -> got.addAll(rig.login(ch, "app", "db"));
            case "authTimeout" -> {
                rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app").bytes()); // trust: logged in...
                got.addAll(HandlerRig.received(ch));
                ch.close(); // ...so time out a second connection that never sends its startup packet
                ch = connect(rig);
                ch.advanceTimeBy(11, TimeUnit.SECONDS);
                ch.runPendingTasks();
                got.clear();
            }
            default -> rig.feed(ch, Frontend.simple('Q').bytes()); // a typed message where the startup packet goes
        }
        assertRefused(ch, got, expected);
    }

    // ================================================================== authentication bypass through message order

    /**
     * Auth bypass through an unexpected message order: after the startup packet, anything but the answer to the
     * authentication request (a query, extended-protocol messages, Sync, Terminate, COPY data, a function call, a
     * second startup packet, a SASLResponse before the SASLInitialResponse, a cleartext password where SCRAM was asked)
     * ends the connection with a FATAL error: no AuthenticationOk, no session, nothing reaches a server.
     */
    @ParameterizedTest
    @ValueSource(strings = {"query", "parse", "bind", "execute", "sync", "flush", "terminate", "copyData", "copyDone",
        "functionCall", "secondStartup", "saslResponseFirst", "cleartextPassword", "emptyPassword"})
    void nothingButTheAnswerToTheAuthenticationRequestIsAccepted(String kind) throws Exception {
        for (String method : List.of("md5", "scram-sha-256")) {
            HandlerRig rig = rig(method);
            EmbeddedChannel ch = connect(rig);
            rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db").bytes());
            List<Reply> got = HandlerRig.received(ch);
            assertEquals('R', got.get(0).type());
            Msg m = switch (kind) {
                case "query" -> Frontend.query("SELECT 1");
                case "parse" -> Msg.typed('P').cstr("").cstr("SELECT 1").count(0).done();
                case "bind" -> Msg.typed('B').cstr("").cstr("").count(0).count(0).count(0).done();
                case "execute" -> Msg.typed('E').cstr("").int32(0).done();
                case "sync" -> Frontend.simple('S');
                case "flush" -> Frontend.simple('H');
                case "terminate" -> Frontend.simple('X');
                case "copyData" -> Msg.typed('d').raw(new byte[] {1, 2}).done();
                case "copyDone" -> Frontend.simple('c');
                case "functionCall" -> Msg.typed('F').int32(1598).count(0).count(0).int16(0).done();
                case "secondStartup" -> Frontend.startup(Frontend.PROTOCOL_3_0, "user", "admin", "database", "pgbalancer");
                case "saslResponseFirst" -> Frontend.saslResponse(("c=biws,r=x,p=" + "A".repeat(43) + "=")
                        .getBytes(StandardCharsets.US_ASCII));
                case "cleartextPassword" -> Frontend.password(HandlerRig.PASSWORD);
                default -> Frontend.password(""); // emptyPassword
            };
            rig.feed(ch, bytes(m, Frontend.query("SELECT 'after'")));
            got.addAll(HandlerRig.received(ch));
            String state = HandlerRig.checkErrors(got);
            assertNotNull(state, method + " " + kind + ": not refused: " + HandlerRig.types(got));
            assertTrue(state.equals("08P01") || state.equals("28P01"), state);
            assertFalse(ch.isOpen());
            assertFalse(authenticated(got), method + " " + kind + " authenticated");
            assertEquals(0, rig.forwarded(), "something reached a server");
        }
    }

    /** Auth bypass: a PasswordMessage before the startup packet is read as a (much too long) startup packet. */
    @Test
    void aPasswordBeforeTheStartupPacketIsAProtocolViolation() throws Exception {
        HandlerRig rig = rig("md5");
        EmbeddedChannel ch = connect(rig);
        rig.feed(ch, bytes(Frontend.password("secret"), Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app")));
        List<Reply> got = new ArrayList<>();
        assertRefused(ch, got, "08P01");
        assertFalse(authenticated(got));
    }

    /** Auth bypass: whatever is pipelined after a wrong answer is never run. */
    @Test
    void messagesPipelinedAfterAWrongProofAreNeverRun() throws Exception {
        HandlerRig rig = rig("scram-sha-256");
        EmbeddedChannel ch = connect(rig);
        ScramLogin wrong = new ScramLogin("not the password", "pipelined");
        rig.feed(ch, bytes(Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db"),
                Frontend.saslInitial("SCRAM-SHA-256", wrong.clientFirst())));
        List<Reply> got = HandlerRig.received(ch);
        byte[] fin = wrong.clientFinal(got.get(got.size() - 1).text(4));
        rig.feed(ch, bytes(Frontend.saslResponse(fin), Frontend.query("DROP TABLE important")));
        assertRefused(ch, got, "28P01");
        assertFalse(authenticated(got));
        assertEquals(0, rig.forwarded());
    }

    /** Auth bypass: a proof made for another exchange's nonce (or replayed from a successful one) is refused. */
    @Test
    void aScramProofForAnotherNonceIsRefused() throws Exception {
        HandlerRig rig = rig("scram-sha-256");
        // exchange A, completed honestly
        EmbeddedChannel a = connect(rig);
        ScramLogin loginA = new ScramLogin(HandlerRig.PASSWORD, "nonceA");
        rig.feed(a, bytes(Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db"),
                Frontend.saslInitial("SCRAM-SHA-256", loginA.clientFirst())));
        List<Reply> gotA = HandlerRig.received(a);
        byte[] finalA = loginA.clientFinal(gotA.get(gotA.size() - 1).text(4));
        // exchange B, same client nonce: the server's half of the nonce differs, so A's proof must not pass
        EmbeddedChannel b = connect(rig);
        ScramLogin loginB = new ScramLogin(HandlerRig.PASSWORD, "nonceA");
        rig.feed(b, bytes(Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db"),
                Frontend.saslInitial("SCRAM-SHA-256", loginB.clientFirst())));
        List<Reply> gotB = HandlerRig.received(b);
        rig.feed(b, Frontend.saslResponse(finalA).bytes());
        assertRefused(b, gotB, "28P01");
        assertFalse(authenticated(gotB));
        // A itself still succeeds with its own proof, and replaying it on a third connection fails
        rig.feed(a, Frontend.saslResponse(finalA).bytes());
        assertTrue(authenticated(HandlerRig.received(a)));
        EmbeddedChannel c = connect(rig);
        rig.feed(c, bytes(Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db"),
                Frontend.saslInitial("SCRAM-SHA-256", loginA.clientFirst())));
        List<Reply> gotC = HandlerRig.received(c);
        rig.feed(c, Frontend.saslResponse(finalA).bytes());
        assertRefused(c, gotC, "28P01");
        assertFalse(authenticated(gotC));
    }

    /** Auth bypass / user enumeration: an unknown user fails exactly as a wrong password does, in every method. */
    @Test
    void anUnknownUserGetsTheSameFailureAsAWrongPassword() throws Exception {
        for (String method : List.of("md5", "scram-sha-256", "trust")) {
            ErrorFields[] errors = new ErrorFields[2];
            for (int i = 0; i < 2; i++) {
                String user = i == 0 ? "app" : "ghost";
                HandlerRig rig = rig(method);
                EmbeddedChannel ch = connect(rig);
                rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", user, "database", "db").bytes());
                List<Reply> got = HandlerRig.received(ch);
                if (method.equals("md5")) {
                    rig.feed(ch, Frontend.password("md5" + "0".repeat(32)).bytes());
                } else if (method.equals("scram-sha-256")) {
                    ScramLogin wrong = new ScramLogin("wrong", "enum");
                    rig.feed(ch, Frontend.saslInitial("SCRAM-SHA-256", wrong.clientFirst()).bytes());
                    got.addAll(HandlerRig.received(ch));
                    rig.feed(ch, Frontend.saslResponse(wrong.clientFinal(got.get(got.size() - 1).text(4))).bytes());
                }
                if (method.equals("trust") && user.equals("app")) {
                    assertTrue(authenticated(got), "trust lets a known user in");
                    continue;
                }
                errors[i] = assertRefused(ch, got, "28P01");
            }
            if (errors[0] != null) {
                assertEquals(errors[0].message().replace("\"app\"", "\"ghost\""), errors[1].message(), method);
            }
        }
    }

    // ======================================================================= admin commands without authorization

    /** Admin without authorization: a user not in admin.users is refused the console after authenticating. */
    @Test
    void aNonAdminUserIsRefusedTheConsole() throws Exception {
        for (String method : List.of("trust", "md5", "scram-sha-256")) {
            HandlerRig rig = rig(method);
            EmbeddedChannel ch = connect(rig);
            List<Reply> got = rig.login(ch, "app", "pgbalancer");
            assertRefused(ch, got, "42501");
            assertFalse(console(got));
            assertEquals(0, rig.forwarded(), "the console's database reached a server");
        }
    }

    /**
     * Admin without authorization: the console is database "pgbalancer" exactly, like PostgreSQL's database names;
     * other spellings are ordinary databases whose queries go to a server. No spelling gives the console to anyone
     * but an admin, and none makes the proxy run an admin command.
     */
    @ParameterizedTest
    @ValueSource(strings = {"PGBALANCER", "Pgbalancer", "pgbalancer ", " pgbalancer", "\"pgbalancer\"", "pgbalancer;",
        "pgbalancer\t", "pgbalancеr"})
    void otherSpellingsOfTheConsoleAreOrdinaryDatabases(String database) throws Exception {
        for (String user : List.of("app", "admin")) {
            HandlerRig rig = rig("scram-sha-256");
            AtomicInteger shutdowns = new AtomicInteger();
            rig.proxy.onShutdownRequest(shutdowns::incrementAndGet);
            EmbeddedChannel ch = connect(rig);
            List<Reply> got = rig.login(ch, user, database);
            assertTrue(authenticated(got));
            assertFalse(console(got), user + " got the console through \"" + database + "\"");
            long before = rig.forwarded();
            rig.feed(ch, Frontend.query("SHOW POOLS; SHUTDOWN").bytes());
            got.addAll(HandlerRig.received(ch));
            assertTrue(rig.forwarded() > before, "the query went to a server");
            assertEquals(0, shutdowns.get());
            assertEquals("CZ", HandlerRig.types(got).substring(HandlerRig.types(got).length() - 2),
                    "the server's answer, not the console's rows");
        }
    }

    /** Admin without authorization: without a database parameter the user's name is the database, checked the same. */
    @Test
    void aUserNamedLikeTheConsoleWithoutADatabaseIsChecked() throws Exception {
        HandlerRig rig = rig("scram-sha-256", "[{name: pgbalancer, password: secret}, {name: admin, password: secret}]",
                HandlerRig.LIMITS);
        for (String database : new String[] {null, ""}) {
            EmbeddedChannel ch = connect(rig);
            List<Reply> got = rig.login(ch, "pgbalancer", database);
            assertRefused(ch, got, "42501");
            assertFalse(console(got));
        }
        assertEquals(0, rig.forwarded());
    }

    /** Admin without authorization: with the database parameter twice, the check and the session see the same one. */
    @Test
    void aRepeatedDatabaseParameterIsCheckedAsItIsUsed() throws Exception {
        HandlerRig rig = rig("trust");
        EmbeddedChannel ch = connect(rig);
        rig.feed(ch, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "app", "database", "db", "database",
                "pgbalancer").bytes());
        List<Reply> got = new ArrayList<>();
        assertRefused(ch, got, "42501");
        assertFalse(console(got));
        EmbeddedChannel other = connect(rig);
        rig.feed(other, Frontend.startup(Frontend.PROTOCOL_3_0, "user", "admin", "database", "pgbalancer", "database",
                "db").bytes());
        List<Reply> otherGot = HandlerRig.received(other);
        assertTrue(authenticated(otherGot));
        assertFalse(console(otherGot), "the console opened for the first of two database parameters");
    }

    /**
     * Admin without authorization: an ordinary session's SHOW POOLS, PAUSE, RESUME, RELOAD, SHUTDOWN and BAN go to
     * the server (which refuses them); the proxy runs none of them. The admin user on the console is the control.
     */
    @Test
    void adminCommandsInAnOrdinarySessionAreNotRun() throws Exception {
        HandlerRig rig = rig("md5");
        AtomicInteger shutdowns = new AtomicInteger();
        AtomicInteger reloads = new AtomicInteger();
        rig.proxy.onShutdownRequest(shutdowns::incrementAndGet);
        rig.proxy.onReloadRequest(trigger -> {
            reloads.incrementAndGet();
            return new ConfigReloader.Outcome(false, "test");
        });
        EmbeddedChannel ch = connect(rig);
        rig.login(ch, "app", "db");
        long before = rig.forwarded();
        for (String sql : List.of("SHOW POOLS", "PAUSE", "RESUME", "RELOAD", "SHUTDOWN", "BAN 127.0.0.1:1",
                "pause db", "shutdown;")) {
            rig.feed(ch, Frontend.query(sql).bytes());
        }
        List<Reply> got = HandlerRig.received(ch);
        assertEquals("CZ".repeat(8), HandlerRig.types(got), "each answered by the server");
        assertTrue(rig.forwarded() > before);
        assertEquals(0, shutdowns.get());
        assertEquals(0, reloads.get());
        assertFalse(rig.proxy.sessionServices().pauses().holds("db"));
        assertFalse(rig.proxy.sessionServices().router().primary().isBannedByAdmin());
        // the control: the admin user on the console does shut down
        EmbeddedChannel console = connect(rig);
        List<Reply> consoleGot = rig.login(console, "admin", "pgbalancer");
        assertTrue(console(consoleGot));
        rig.feed(console, Frontend.query("SHUTDOWN").bytes());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (shutdowns.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, shutdowns.get());
    }
}

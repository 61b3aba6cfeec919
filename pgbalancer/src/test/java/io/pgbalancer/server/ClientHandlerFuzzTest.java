// purpose: fuzzes the whole client connection (startup, auth, session, admin console) through the real ClientHandler
package io.pgbalancer.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgbalancer.fuzz.Frontend;
import io.pgbalancer.fuzz.Fuzz;
import io.pgbalancer.fuzz.Msg;
import io.pgbalancer.fuzz.Mutate;
import io.pgbalancer.fuzz.ScramLogin;
import io.pgbalancer.fuzz.TrackingAllocator;
import io.pgbalancer.protocol.auth.Md5Password;
import io.pgbalancer.server.HandlerRig.Reply;
import io.pgbalancer.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Byte streams a client could send, split at random points: corrupted logins and messages of every phase in any
 * order, and honest logins (trust, md5, SCRAM) followed by corrupted session traffic, which fake servers answer like
 * PostgreSQL (with errors now and then). Per input it checks that
 * <ul>
 *   <li>no exception reached ClientHandler.exceptionCaught or the pipeline's end (it would be logged at WARN, or
 *       rethrown by the EmbeddedChannel), and every buffer was released;</li>
 *   <li>everything the client got is well framed, every ErrorResponse has S, V, M and a 5-character SQLSTATE, and
 *       a FATAL one is the last message and closes the connection;</li>
 *   <li>md5 and SCRAM authenticate only a known user answering with the right password, unmodified; nothing reaches
 *       a server before AuthenticationOk; only the admin user opens the admin console;</li>
 *   <li>when the client is gone nothing is left counted: connections, logins, sessions, pool waiters.</li>
 * </ul>
 */
@Tag("fuzz")
class ClientHandlerFuzzTest {
    private static final TrackingAllocator ALLOC = new TrackingAllocator();
    private static final List<HandlerRig> RIGS = new ArrayList<>();
    private static LogCapture logs;

    /** Fresh proxies per test, so that a test's inputs replay alone (their pooled connections carry state). */
    @BeforeEach
    void rigs() throws Exception {
        for (String method : List.of("trust", "md5", "scram-sha-256")) {
            RIGS.add(new HandlerRig(method, ALLOC));
        }
        logs = new LogCapture();
    }

    @AfterEach
    void close() {
        RIGS.forEach(HandlerRig::close);
        RIGS.clear();
        logs.close();
    }

    /** Logins gone wrong: corrupted startup and auth messages, and messages of every phase in any order. */
    @Test
    void handshake() {
        Fuzz.run("ClientHandler.handshake", 0.5, ALLOC, c -> new Input(c, false).run());
    }

    /** An honest (now and then corrupted) login answering the proxy's requests, then corrupted session traffic. */
    @Test
    void session() {
        Fuzz.run("ClientHandler.session", 0.5, ALLOC, c -> new Input(c, true).run());
    }

    private static final class Input {
        final Fuzz.Case c;
        final SplittableRandom r;
        final boolean loginFirst;
        final HandlerRig rig;
        final double errorRate;
        final String user;
        final String database;
        final List<Reply> got = new ArrayList<>();
        EmbeddedChannel ch;
        /** Every authentication message sent so far is the one an honest client with the right password sends. */
        boolean honest = true;
        boolean startupIntact = true;

        Input(Fuzz.Case c, boolean loginFirst) {
            this.c = c;
            this.r = c.random;
            this.loginFirst = loginFirst;
            this.rig = c.pick(RIGS);
            this.errorRate = c.pick(0.0, 0.02, 0.2);
            this.user = c.pick("app", "app", "admin", "ghost");
            this.database = c.pick("db", "db", "db", "pgbalancer", "PGBALANCER", "pgbalancer ", "\"pgbalancer\"",
                    "Pgbalancer", "", null);
        }

        void run() throws Exception {
            ch = rig.connect();
            long forwardedBefore = rig.forwarded();
            try {
                if (loginFirst) {
                    login();
                    traffic();
                } else {
                    garbage();
                }
                got.addAll(HandlerRig.received(ch));
                check(forwardedBefore);
                if (ch.isOpen() && c.chance(0.5)) {
                    feed(Frontend.simple('X').bytes());
                }
                ch.close();
                rig.pump(ch, r, errorRate);
                ch.checkException();
            } finally {
                ch.finishAndReleaseAll();
            }
            rig.pump(ch, r, errorRate);
            List<String> logged = logs.take();
            assertTrue(logged.isEmpty(), "logged:\n" + String.join("\n", logged));
            rig.assertAtRest();
        }

        void feed(byte[] bytes) {
            c.input("fed", bytes);
            rig.feed(ch, bytes, Mutate.splits(r, bytes.length), r, errorRate);
        }

        Msg startup() {
            Msg s = Frontend.startup(r, user, database);
            if (c.chance(0.1)) {
                byte[] corrupted = Mutate.mutate(r, s);
                // a changed user name fails the login by itself; the authentication messages stay what they were
                startupIntact = startsWith(corrupted, s.bytes()); // else only bytes after the packet changed
                return Msg.raw(corrupted);
            }
            return s;
        }

        void garbage() {
            List<Msg> parts = new ArrayList<>();
            if (c.chance(0.2)) {
                parts.add(Frontend.sslRequest());
            }
            if (c.chance(0.9)) {
                parts.add(startup());
            }
            int n = c.between(0, 5);
            for (int i = 0; i < n; i++) {
                Msg m = switch (r.nextInt(9)) {
                    case 0 -> Frontend.password(c.pick("secret", "md5" + "0".repeat(32), ""));
                    case 1 -> Frontend.saslInitial(c.pick("SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "x"),
                            c.pick("n,,n=,r=abc", "garbage", "").getBytes(StandardCharsets.UTF_8));
                    case 2 -> Frontend.saslResponse(("c=biws,r=abc,p=" + "A".repeat(43) + "=").getBytes(StandardCharsets.UTF_8));
                    case 3 -> Frontend.startup(r, user, database);
                    case 4 -> Frontend.cancelRequest(r.nextInt(), r.nextInt());
                    case 5 -> Msg.raw(Mutate.random(r, r.nextInt(32)));
                    default -> Frontend.message(r);
                };
                parts.add(c.chance(0.2) ? Msg.raw(Mutate.mutate(r, m)) : m);
            }
            honest = false;
            startupIntact = false;
            feed(Msg.concat(parts).bytes());
        }

        void login() {
            if (c.chance(0.1)) {
                feed(Frontend.sslRequest().bytes());
            }
            feed(startup().bytes());
            ScramLogin scram = null;
            for (int step = 0; step < 4 && ch.isOpen(); step++) {
                List<Reply> now = HandlerRig.received(ch);
                got.addAll(now);
                Reply request = null;
                for (Reply m : now) {
                    if (m.type() == 'R') {
                        request = m;
                    }
                }
                if (request == null || HandlerRig.authCode(request) == 0) {
                    return;
                }
                Msg answer;
                switch (HandlerRig.authCode(request)) {
                    case 5 -> answer = Frontend.password(Md5Password.encode(user, HandlerRig.PASSWORD,
                            java.util.Arrays.copyOfRange(request.body(), 4, 8)));
                    case 10 -> {
                        scram = new ScramLogin(HandlerRig.PASSWORD, nonce());
                        answer = Frontend.saslInitial("SCRAM-SHA-256", scram.clientFirst());
                    }
                    case 11 -> {
                        byte[] fin = scram == null ? null : scram.clientFinal(request.text(4));
                        if (fin == null) {
                            honest = false;
                            fin = Mutate.random(r, 16);
                        }
                        answer = Frontend.saslResponse(fin);
                    }
                    default -> {
                        return;
                    }
                }
                if (c.chance(0.1)) {
                    Msg sent = switch (r.nextInt(3)) {
                        case 0 -> Msg.raw(Mutate.mutate(r, answer));
                        case 1 -> Frontend.message(r); // out of order: a query, a Sync, a Terminate ... instead
                        default -> Frontend.startup(r, user, database); // a second startup packet
                    };
                    if (!startsWith(sent.bytes(), answer.bytes())) { // else only bytes after the message changed
                        honest = false;
                    }
                    answer = sent;
                }
                feed(answer.bytes());
            }
        }

        static boolean startsWith(byte[] bytes, byte[] prefix) {
            return bytes.length >= prefix.length
                    && java.util.Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
        }

        String nonce() {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 18; i++) {
                char ch = (char) r.nextInt(0x21, 0x7F);
                s.append(ch == ',' ? '-' : ch);
            }
            return s.toString();
        }

        void traffic() {
            got.addAll(HandlerRig.received(ch));
            boolean console = "pgbalancer".equals(effectiveDatabase());
            int rounds = c.between(1, 4);
            for (int i = 0; i < rounds && ch.isOpen(); i++) {
                byte[] bytes;
                if (console && c.chance(0.7)) {
                    List<Msg> qs = new ArrayList<>();
                    int n = c.between(1, 3);
                    for (int k = 0; k < n; k++) {
                        Msg q = Frontend.query(Frontend.pick(r, Frontend.SQL) + (c.chance(0.2) ? ";" : ""));
                        qs.add(c.chance(0.1) ? Msg.raw(Mutate.mutate(r, q)) : q);
                    }
                    bytes = Msg.concat(qs).bytes();
                } else {
                    bytes = Frontend.stream(r, c.between(1, 8), 0.05);
                }
                feed(bytes);
                got.addAll(HandlerRig.received(ch));
            }
        }

        String effectiveDatabase() {
            return database == null || database.isEmpty() ? user : database;
        }

        void check(long forwardedBefore) {
            String fatal = HandlerRig.checkErrors(got);
            if (fatal != null) {
                ch.runPendingTasks();
                assertFalse(ch.isOpen(), "still open after a FATAL error");
            }
            boolean authOk = got.stream().anyMatch(m -> HandlerRig.authCode(m) == 0);
            boolean knownUser = user.equals("app") || user.equals("admin");
            if (authOk && !rig.method.equals("trust")) {
                assertTrue(honest && knownUser, "authenticated without the right password (user " + user + ")");
            }
            if (rig.forwarded() > forwardedBefore) {
                assertTrue(authOk, "bytes reached a server before AuthenticationOk");
            }
            boolean console = got.stream().anyMatch(m -> m.type() == 'S'
                    && m.text(0).startsWith("server_version\0" + "15.0 (pgbalancer)"));
            if (console) {
                assertEquals("admin", user, "the admin console opened for a user not in admin.users");
                if (startupIntact) {
                    assertEquals("pgbalancer", effectiveDatabase(), "the admin console opened for another database name");
                }
            }
            if (startupIntact && authOk && !user.equals("admin") && "pgbalancer".equals(effectiveDatabase())) {
                assertEquals("42501", fatal, "a non-admin user was not refused the admin console");
            }
            c.outcome(fatal != null ? "FATAL " + fatal : console ? "console" : authOk ? "session" : "no login");
        }
    }
}

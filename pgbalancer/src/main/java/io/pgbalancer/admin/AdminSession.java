// A client connected to the virtual database "pgbalancer": the admin console, answered here, never by a server.
package io.pgbalancer.admin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgbalancer.protocol.Frames;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.protocol.Wire;
import io.pgbalancer.server.FrontendSession;
import io.pgbalancer.session.SessionServices;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class AdminSession implements FrontendSession {
    static final String SERVER_VERSION = "15.0 (pgbalancer)";
    static final String SIMPLE_ONLY = "the admin console takes simple queries only (psql works)";
    /** Extended-query messages: after the first, everything up to Sync is discarded. */
    private static final Set<Character> EXTENDED = Set.of('P', 'B', 'D', 'E', 'C', 'H');
    private static final Logger log = LoggerFactory.getLogger(AdminSession.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Channel client;
    private final AdminCommands commands;
    private final String applicationName;
    private final String user;
    private boolean discardUntilSync;
    private boolean closed;
    private final io.pgbalancer.session.SessionTracker sessions;

    public AdminSession(Channel client, SessionServices services, String user, String applicationName,
                        ProxyControl control) {
        this.client = client;
        this.commands = new AdminCommands(services, client.eventLoop(), control);
        this.applicationName = applicationName;
        this.user = user;
        this.sessions = services.sessions();
    }

    /** ParameterStatus as a server would send (psql reads server_version), a random key (cancel: no-op), idle. */
    @Override
    public void start() {
        log.info("admin console opened by {} from {}", user, client.remoteAddress());
        sessions.consoleOpened(this, user, String.valueOf(client.remoteAddress()),
                reason -> terminate("57P01", reason));
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("server_version", SERVER_VERSION);
        parameters.put("server_encoding", "UTF8");
        parameters.put("client_encoding", "UTF8");
        parameters.put("DateStyle", "ISO, MDY");
        parameters.put("integer_datetimes", "on");
        parameters.put("standard_conforming_strings", "on");
        parameters.put("application_name", applicationName);
        client.writeAndFlush(ServerMessages.welcome(client.alloc(), parameters, RANDOM.nextInt(), RANDOM.nextInt()));
    }

    @Override
    public void onClientFrames(ByteBuf frames) {
        try {
            if (closed) {
                return;
            }
            ByteBuf out = client.alloc().buffer();
            try {
                Frames.walk(frames, (type, buf, start, length) -> onMessage(out, (char) type, buf, start, length));
            } catch (RuntimeException e) {
                out.release(); // a malformed message (ProtocolException): the handler ends the connection
                throw e;
            }
            if (closed) {
                out.release();
            } else {
                client.writeAndFlush(out);
            }
        } finally {
            frames.release();
        }
    }

    private boolean onMessage(ByteBuf out, char type, ByteBuf buf, int start, int length) {
        if (type == 'X') {
            closed = true;
            client.close();
            return false;
        }
        if (type == 'S') {
            discardUntilSync = false;
            ServerMessages.readyForQuery(out, 'I');
            return true;
        }
        if (discardUntilSync) {
            return true;
        }
        if (type == 'Q') {
            runQuery(out, Wire.readCString(buf, start + 5, start + length, "Query"));
            return true;
        }
        ServerMessages.error(out, "ERROR", "0A000", SIMPLE_ONLY, null, null);
        if (EXTENDED.contains(type)) {
            discardUntilSync = true;
        } else {
            ServerMessages.readyForQuery(out, 'I');
        }
        return true;
    }

    /** Each command answers in turn; an error ends the query string, as in PostgreSQL. */
    private void runQuery(ByteBuf out, String query) {
        List<String> parts = AdminQuery.split(query);
        if (parts.isEmpty()) {
            ServerMessages.empty(out, 'I');
        }
        runFrom(out, parts, 0);
    }

    /**
     * Runs {@code parts} from {@code index} into {@code out}, then ReadyForQuery. A reply that comes later (PAUSE)
     * stops the run; its continuation writes the reply and the rest once it is there.
     */
    private void runFrom(ByteBuf out, List<String> parts, int index) {
        for (int i = index; i < parts.size(); i++) {
            AdminReply reply = commands.run(parts.get(i));
            if (reply instanceof AdminReply.Later later) {
                int next = i + 1;
                later.reply().addListener(f -> {
                    if (closed) {
                        return;
                    }
                    ByteBuf rest = client.alloc().buffer();
                    AdminReply done = (AdminReply) f.getNow();
                    AdminReplyWriter.write(rest, done);
                    if (done instanceof AdminReply.Failed) {
                        ServerMessages.readyForQuery(rest, 'I');
                    } else {
                        runFrom(rest, parts, next);
                    }
                    client.writeAndFlush(rest);
                });
                return;
            }
            AdminReplyWriter.write(out, reply);
            if (reply instanceof AdminReply.Failed) {
                break;
            }
        }
        ServerMessages.readyForQuery(out, 'I');
    }

    @Override
    public void onClientWritabilityChanged() {
        // Replies are small and only follow queries: nothing to pause.
    }

    @Override
    public void onClientClosed() {
        closed = true;
        sessions.consoleClosed(this);
    }

    @Override
    public void terminate(String sqlState, String message) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> terminate(sqlState, message));
            return;
        }
        closed = true;
        if (client.isActive()) {
            client.writeAndFlush(ServerMessages.error(client.alloc(), "FATAL", sqlState, message))
                    .addListener(f -> client.close());
        }
    }
}

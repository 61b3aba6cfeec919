// One authenticated client: borrows a backend per transaction (or session), keeps its state, relays its traffic.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.pgbalancer.cancel.CancelForwarder;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendListener;
import io.pgbalancer.pool.BackendReset;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import io.pgbalancer.routing.Target;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All methods run on the client channel's event loop. A backend is held from the first message of a transaction
 * until it has answered everything sent and its ReadyForQuery says idle; then it goes back to the pool clean.
 */
public final class ClientSession implements BackendListener, CancelRegistry.Target {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    final Channel client;
    final SessionServices services;
    final PreparedStatements statements = new PreparedStatements();
    final ResponseTracker tracker = new ResponseTracker();
    final StatementMemo memo;
    final String user;
    final String database;
    final EventLoop loop;
    private final Checkout checkout;
    private final CancelRegistry.Key cancelKey;
    private final FrontendRelay frontend;
    private final BackendRelay backendRelay;

    final SettingsLedger settings;
    BackendConnection backend;
    /** The server of {@link #backend}, whose in-use count this session holds one of. */
    private BackendNode node;
    /** Status of the last ReadyForQuery: 'I' idle, 'T' in transaction, 'E' failed transaction. */
    char txStatus = 'I';
    boolean pinned;
    boolean welcomed;
    /**
     * The backend's last message was a ReadyForQuery that settled everything owed, and nothing was sent since: the
     * only point where a backend is clean (no open pipeline, no unnamed statement or portal in use, no pending skip).
     */
    boolean idleAtReadyForQuery;
    /** The next client message starts a new cycle (the previous one was a Sync, Query or FunctionCall). */
    boolean cycleBoundary;

    private final WaitingInput waiting = new WaitingInput();
    /** A read on a replica, kept replayable until its client has seen an answer. */
    final ReadReplay replay = new ReadReplay();
    /** The replica refused the read (25006): answers are dropped until it settles, then the read re-runs there. */
    Target retryTarget;
    boolean retryReady;
    /** Input of a later cycle that must not run on the current backend; it waits until that one is done. */
    private boolean holding;
    private boolean draining;
    /** The client sent Terminate after messages whose answers are still due; see onClientTerminate. */
    private boolean finishing;
    private boolean closed;

    public ClientSession(Channel client, SessionServices services, String user, String database,
                         SessionSettings settings) {
        this.client = client;
        this.loop = client.eventLoop();
        this.services = services;
        this.user = user;
        this.database = database;
        this.settings = new SettingsLedger(settings);
        this.memo = new StatementMemo(services.classifier());
        this.checkout = new Checkout(this);
        this.cancelKey = services.cancels().register(this);
        this.frontend = new FrontendRelay(this);
        this.backendRelay = new BackendRelay(this);
        services.sessions().add(this);
    }

    @Override
    public EventExecutor executor() {
        return loop;
    }

    /** After authentication: borrow a backend to apply the client's settings and learn the values to report. */
    public void start() {
        checkout.waitFor(Target.PRIMARY);
    }

    /** Complete client messages; takes ownership of {@code frames}. */
    public void onClientFrames(ByteBuf frames) {
        if (closed) {
            frames.release();
            return;
        }
        if (backend == null && frames.getByte(frames.readerIndex()) == 'X') {
            frames.release(); // Terminate between transactions: nothing to borrow a backend for
            client.close();
            onClientClosed();
            return;
        }
        if (backend == null && !checkout.isWaiting()) {
            Target forced = checkout.takeForced();
            BackendConnection idle = checkout.idleOrWait(forced != null ? forced
                    : routeOf(frames, frames.readerIndex()));
            if (idle != null) {
                attach(idle);
            } else if (closed) {
                frames.release();
                return;
            } else {
                queue(frames);
                return;
            }
        }
        if (backend != null && !holding) {
            relayClient(frames);
            return;
        }
        queue(frames);
    }

    private void queue(ByteBuf frames) {
        waiting.add(frames);
        updateClientAutoRead();
    }

    /** Keeps the rest of a chunk until the current backend is done (see FrontendRelay's cycle check). */
    void hold(ByteBuf rest) {
        holding = true;
        replay.unrecord(rest.readableBytes());
        waiting.addFirst(rest);
    }

    /** Where the cycle starting at {@code at} should run. Session pooling and pinned sessions use the primary. */
    Target routeOf(ByteBuf frames, int at) {
        if (services.sessionPooling() || pinned) {
            return Target.PRIMARY;
        }
        return services.router().transactions().routeCycle(frames, at, memo, name -> {
            PreparedStatements.Statement st = statements.get(name);
            return st == null ? null : st.classification();
        }, settings.settings().readOnly());
    }

    boolean onReplica() {
        return node != null && !node.isPrimary();
    }

    /** A connection the session waited for has arrived (see Checkout). */
    void onCheckedOut(BackendConnection b) {
        attach(b);
        if (!welcomed && tracker.isEmpty()) {
            welcome();
        }
        relayWaiting();
        updateClientAutoRead();
        maybeRelease();
    }

    boolean isClosed() {
        return closed;
    }

    /** Sends queued input to the attached backend, in order, until it is used up or a cycle must wait. */
    private void relayWaiting() {
        while (!waiting.isEmpty() && backend != null && !closed && !holding) {
            relayClient(waiting.poll());
        }
    }

    /** Client input goes through here from every path, so a protocol violation always ends the session. */
    private void relayClient(ByteBuf frames) {
        replay.record(frames);
        try {
            frontend.relay(frames);
        } catch (io.pgbalancer.protocol.ProtocolException e) {
            terminate(e.sqlState(), e.getMessage());
        } finally {
            memo.forget();
        }
    }

    private void attach(BackendConnection b) {
        backend = b;
        node = services.router().node(b.key().backend());
        node.checkedOut();
        idleAtReadyForQuery = true; // pooled connections are always clean
        cycleBoundary = true;
        if (!node.isPrimary() && !pinned && !services.sessionPooling()) {
            replay.open(client);
        }
        b.owner(this);
        syncSettings();
    }

    /** Forgets the backend (the caller decides its fate) and gives back this session's share of its server. */
    private BackendConnection detach() {
        BackendConnection b = backend;
        backend = null;
        replay.close();
        if (node != null) {
            node.checkedIn();
            node = null;
        }
        return b;
    }

    /** Brings the backend's settings in line with the client's with one hidden query (its answers stay hidden). */
    private void syncSettings() {
        SessionSettings onBackend = backend.applied instanceof SessionSettings s ? s : SessionSettings.NONE;
        SessionSettings wanted = settings.settings();
        String sql = wanted.syncSql(onBackend);
        if (sql != null) {
            backend.applied = wanted;
            sendHidden(sql, Expect.INTERNAL, null);
        }
    }

    /** Puts back startup parameters a RESET left at the server's default; {@code heldStatus}: see BackendRelay. */
    void restoreSettings(String sql, Character heldStatus) {
        sendHidden(sql, Expect.RESTORE, heldStatus);
    }

    private void sendHidden(String sql, int kind, Object tag) {
        ByteBuf q = client.alloc().buffer(sql.length() + 8);
        ClientMessages.query(q, sql);
        tracker.add(kind, tag);
        idleAtReadyForQuery = false;
        backend.channel().writeAndFlush(q, backend.channel().voidPromise());
    }

    /** Tells the client the login is complete, with the parameter values its backend now reports. */
    void welcome() {
        welcomed = true;
        client.writeAndFlush(ServerMessages.welcome(client.alloc(), backend.reported, cancelKey.processId(),
                cancelKey.secret()));
    }

    /** Called after each ReadyForQuery and acquisition: hands the backend back when the client is done with it. */
    void maybeRelease() {
        if (finishing && backend != null && tracker.isEmpty()) {
            finishing = false;
            onClientClosed(); // the client said Terminate and its last messages are answered
            return;
        }
        BackendConnection b = backend;
        if (b == null || !idleAtReadyForQuery || !tracker.isEmpty()) {
            return;
        }
        boolean keep = txStatus != 'I' || pinned || services.sessionPooling();
        if (holding) {
            holding = false;
            if (keep) {
                relayWaiting(); // still in the transaction: the held cycle belongs to it
                return;
            }
        } else if (keep) {
            return;
        }
        detach();
        if (b.mayReleaseNow()) {
            b.pool().release(b);
        }
        if (draining) {
            terminate("57P01", "terminating connection due to administrator command");
            return;
        }
        if (!waiting.isEmpty()) {
            ArrayDeque<ByteBuf> held = waiting.takeAll(); // route the held cycles afresh, in order
            while (!held.isEmpty()) {
                onClientFrames(held.poll());
            }
        }
    }

    @Override
    public void onBackendData(BackendConnection b, ByteBuf frames) {
        if (b != backend) {
            frames.release();
            return;
        }
        backendRelay.relay(frames);
        if (retryReady) {
            retryRead();
        } else {
            maybeRelease();
        }
    }

    /** The replica refused the read as a write and has settled: give it back and run the read on the primary. */
    private void retryRead() {
        retryReady = false;
        Target target = retryTarget;
        retryTarget = null;
        ByteBuf again = replay.takeForReplay();
        BackendConnection b = detach();
        if (idleAtReadyForQuery && txStatus == 'I' && b.mayReleaseNow()) {
            b.pool().release(b);
        } else {
            b.broken = true;
            b.channel().close();
        }
        services.router().countRetry(target == Target.PRIMARY);
        log.debug("read refused by {} as a write; running it again on the primary", b);
        resubmit(again, target);
    }

    /** Runs client messages again from scratch (on {@code target}), ahead of any held later cycles. */
    private void resubmit(ByteBuf again, Target target) {
        ArrayDeque<ByteBuf> held = waiting.takeAll();
        holding = false;
        checkout.force(target);
        if (again.isReadable()) {
            onClientFrames(again);
        } else {
            again.release();
            checkout.takeForced();
        }
        while (!held.isEmpty()) {
            onClientFrames(held.poll());
        }
    }

    @Override
    public void onBackendClosed(BackendConnection b, Throwable cause) {
        if (b == backend && replay.isOpen() && !closed && !finishing) {
            // the replica died before the client saw anything: run the read again on another server
            ByteBuf again = replay.takeForReplay();
            detach();
            services.router().node(b.key().backend()).ban(Router.BAN_NANOS);
            tracker.clear();
            settings.abandon();
            txStatus = 'I';
            retryTarget = null;
            retryReady = false;
            services.router().countRetry(false);
            log.info("{} closed during a read; no reads for it for a while, running the read elsewhere", b);
            resubmit(again, null);
            return;
        }
        if (b == backend) {
            detach();
            services.router().node(b.key().backend()).ban(Router.BAN_NANOS); // died under its client
            finishing = false;
            terminate("08006", "pgbalancer: the server closed the connection unexpectedly (" + b + ")");
        }
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection b, boolean writable) {
        if (b == backend) {
            updateClientAutoRead();
        }
    }

    /** The client channel's writability changed: stop reading the backend while the client cannot keep up. */
    public void onClientWritabilityChanged() {
        BackendConnection b = backend;
        if (b != null) {
            b.channel().config().setAutoRead(client.isWritable());
        }
    }

    /** Stops reading a client that has queued a lot while waiting, or whose backend cannot take more. */
    private void updateClientAutoRead() {
        boolean read = !closed && !waiting.isFull()
                && (backend == null || backend.channel().isWritable());
        client.config().setAutoRead(read);
    }

    @Override
    public void cancelRunningQuery() {
        loop.execute(() -> {
            BackendConnection b = backend;
            if (b == null || tracker.isEmpty()) {
                return; // nothing running: a late cancel must not reach the backend's next client
            }
            b.cancelStarted();
            CancelForwarder.send(b, loop).addListener(f -> {
                if (b.cancelFinished() && b != backend) {
                    b.pool().release(b); // the release was deferred until the cancel could no longer land
                }
            });
        });
    }

    public boolean holdsBackend() {
        return backend != null;
    }

    /** Graceful shutdown: close now if idle, else after the current transaction. */
    void drain() {
        loop.execute(() -> {
            draining = true;
            if (backend == null || (pinned && idleAtReadyForQuery && txStatus == 'I')) {
                terminate("57P01", "terminating connection due to administrator command");
            }
        });
    }

    /** Sends a FATAL error and closes the client. */
    public void terminate(String sqlState, String message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> terminate(sqlState, message));
            return;
        }
        if (client.isActive()) {
            client.writeAndFlush(ServerMessages.error(client.alloc(), "FATAL", sqlState, message))
                    .addListener(f -> client.close());
        }
        onClientClosed();
    }

    void terminate(String reason) {
        terminate("57P01", reason);
    }

    /** Terminate: answers still owed for earlier messages are awaited (and dropped) before the backend is judged. */
    void onClientTerminate() {
        client.close();
        if (backend != null && !tracker.isEmpty()) {
            finishing = true;
            return;
        }
        onClientClosed();
    }

    /** The client went away (Terminate, EOF, error): never leave its backend dirty in the pool. */
    public void onClientClosed() {
        if (closed || finishing) {
            return;
        }
        closed = true;
        services.cancels().unregister(cancelKey);
        replay.close();
        services.sessions().remove(this);
        waiting.release();
        if (backend == null) {
            return;
        }
        BackendConnection b = detach();
        if (idleAtReadyForQuery && tracker.isEmpty() && txStatus == 'I' && !b.broken) {
            if (pinned || services.sessionPooling()) {
                BackendReset.resetAndRelease(b);
            } else if (b.mayReleaseNow()) {
                b.pool().release(b);
            }
            return;
        }
        // Mid-transaction or mid-pipeline: stop what runs, then drop the connection so the server rolls back.
        b.broken = true;
        b.owner(null);
        if (!tracker.isEmpty()) {
            CancelForwarder.send(b, loop).addListener(f -> b.channel().close());
        } else {
            b.channel().close();
        }
        log.debug("client left {} dirty (status {}, {} answers outstanding); closed it", b, txStatus, tracker.size());
    }

}

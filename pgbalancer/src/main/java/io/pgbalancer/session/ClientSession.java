// One authenticated client: borrows a backend per transaction (or session), keeps its state, relays its traffic.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.pgbalancer.cancel.CancelForwarder;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendListener;
import io.pgbalancer.pool.BackendLoginException;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.BackendReset;
import io.pgbalancer.pool.PoolTimeoutException;
import io.pgbalancer.protocol.ClientMessages;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.sql.SessionSet;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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
    final BackendPool pool;
    final PreparedStatements statements = new PreparedStatements();
    final ResponseTracker tracker = new ResponseTracker();
    private final EventLoop loop;
    private final CancelRegistry.Key cancelKey;
    private final FrontendRelay frontend;
    private final BackendRelay backendRelay;

    SessionSettings settings;
    BackendConnection backend;
    /** Status of the last ReadyForQuery: 'I' idle, 'T' in transaction, 'E' failed transaction. */
    char txStatus = 'I';
    boolean pinned;
    boolean welcomed;
    /**
     * The backend's last message was a ReadyForQuery that settled everything owed, and nothing was sent since: the
     * only point where a backend is clean (no open pipeline, no unnamed statement or portal in use, no pending skip).
     */
    boolean idleAtReadyForQuery;
    /** SETs seen since the last idle ReadyForQuery; applied when it comes without error or rollback. */
    List<SessionSet> pendingSets = List.of();
    boolean pendingDoomed;

    /** Input buffered while waiting for a backend; beyond this the client is not read until one is found. */
    private static final int MAX_WAITING_BYTES = 256 * 1024;
    private ArrayDeque<ByteBuf> waitingInput;
    private int waitingBytes;
    private boolean acquiring;
    private boolean draining;
    /** The client sent Terminate after messages whose answers are still due; see onClientTerminate. */
    private boolean finishing;
    private boolean closed;

    public ClientSession(Channel client, SessionServices services, BackendPool pool, SessionSettings settings) {
        this.client = client;
        this.loop = client.eventLoop();
        this.services = services;
        this.pool = pool;
        this.settings = settings;
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
        acquire();
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
        if (backend == null && !acquiring) {
            BackendConnection idle = pool.pollIdle(loop);
            if (idle != null) {
                attach(idle);
            }
        }
        if (backend != null) {
            frontend.relay(frames);
            return;
        }
        if (waitingInput == null) {
            waitingInput = new ArrayDeque<>(2);
        }
        waitingInput.add(frames);
        waitingBytes += frames.readableBytes();
        if (!acquiring) {
            acquire();
        }
        updateClientAutoRead();
    }

    private void acquire() {
        acquiring = true;
        pool.acquire(loop).addListener(this::onAcquired);
    }

    private void onAcquired(Future<? super BackendConnection> f) {
        acquiring = false;
        if (!f.isSuccess()) {
            if (!closed) {
                failAcquire(f.cause());
            }
            return;
        }
        BackendConnection b = (BackendConnection) f.getNow();
        if (closed) {
            pool.release(b);
            return;
        }
        attach(b);
        if (!welcomed && tracker.isEmpty()) {
            welcome();
        }
        while (waitingInput != null && !waitingInput.isEmpty() && backend != null && !closed) {
            ByteBuf next = waitingInput.poll();
            waitingBytes -= next.readableBytes();
            frontend.relay(next);
        }
        updateClientAutoRead();
        maybeRelease();
    }

    private void failAcquire(Throwable cause) {
        if (cause instanceof PoolTimeoutException) {
            terminate("53300", "pgbalancer: " + cause.getMessage());
        } else if (cause instanceof BackendLoginException e && e.serverError() != null) {
            ErrorFields err = e.serverError();
            terminate(err.sqlState(), err.message());
        } else {
            terminate("08006", "pgbalancer: " + cause.getMessage());
        }
    }

    private void attach(BackendConnection b) {
        backend = b;
        idleAtReadyForQuery = true; // pooled connections are always clean
        b.owner(this);
        syncSettings();
    }

    private void syncSettings() {
        SessionSettings onBackend = backend.applied instanceof SessionSettings s ? s : SessionSettings.NONE;
        String sql = settings.syncSql(onBackend);
        if (sql != null) {
            ByteBuf q = client.alloc().buffer(sql.length() + 8);
            ClientMessages.query(q, sql);
            tracker.add(Expect.INTERNAL);
            idleAtReadyForQuery = false;
            backend.applied = settings;
            backend.channel().writeAndFlush(q, backend.channel().voidPromise());
        }
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
        if (b == null || !idleAtReadyForQuery || !tracker.isEmpty() || txStatus != 'I' || pinned
                || services.sessionPooling()) {
            return;
        }
        if (waitingInput != null && !waitingInput.isEmpty()) {
            return;
        }
        backend = null;
        if (b.mayReleaseNow()) {
            pool.release(b);
        }
        if (draining) {
            terminate("57P01", "terminating connection due to administrator command");
        }
    }

    @Override
    public void onBackendData(BackendConnection b, ByteBuf frames) {
        if (b != backend) {
            frames.release();
            return;
        }
        backendRelay.relay(frames);
        maybeRelease();
    }

    @Override
    public void onBackendClosed(BackendConnection b, Throwable cause) {
        if (b == backend) {
            backend = null;
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
        boolean read = !closed && waitingBytes < MAX_WAITING_BYTES
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
                    pool.release(b); // the release was deferred until the cancel could no longer land
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
        services.sessions().remove(this);
        if (waitingInput != null) {
            waitingInput.forEach(ByteBuf::release);
            waitingInput = null;
        }
        BackendConnection b = backend;
        backend = null;
        if (b == null) {
            return;
        }
        if (idleAtReadyForQuery && tracker.isEmpty() && txStatus == 'I' && !b.broken) {
            if (pinned || services.sessionPooling()) {
                BackendReset.resetAndRelease(pool, b);
            } else if (b.mayReleaseNow()) {
                pool.release(b);
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

    void addPendingSets(List<SessionSet> sets) {
        if (pendingSets.isEmpty()) {
            pendingSets = new ArrayList<>(sets);
        } else {
            pendingSets.addAll(sets);
        }
    }
}

// One authenticated client: its settings, statements and waiting input; dispatches on its backend lease's state.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.pgbalancer.cancel.CancelRegistry;
import io.pgbalancer.causal.ProxyStatements;
import io.pgbalancer.causal.SessionCausality;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendListener;
import io.pgbalancer.protocol.ServerMessages;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Target;

/**
 * All methods run on the client channel's event loop. A backend is held from the first message of a transaction
 * until its lease is {@link BackendLease.State#IDLE}; then it goes back to the pool clean. Everything about the
 * backend lives in {@link BackendLease}; this class keeps what belongs to the client for its whole session.
 */
public final class ClientSession implements BackendListener, CancelRegistry.Target,
        io.pgbalancer.server.FrontendSession {
    final Channel client;
    final SessionServices services;
    final PreparedStatements statements = new PreparedStatements();
    final StatementMemo memo;
    final SettingsLedger settings;
    final BackendLease lease;
    final SessionCausality causality;
    final CommitLearner commits;
    final String user;
    final String database;
    final EventLoop loop;
    final Checkout checkout;
    /** Made by the first retry (most sessions never need one); keeps its count of login retries from then on. */
    private ReadRetry retry;
    private final CancelRegistry.Key cancelKey;
    /** The client cancelled its query while it waited for a server: cancel it once it has been sent. */
    private boolean cancelWhenSent;
    private final BackendRelay backendRelay;
    final ClientInput input;
    /**
     * Answers SET/SHOW/RESET pgbalancer.* between transactions (see ClientInput); made by the first message it is
     * asked about: most sessions never send one, and an idle client should not pay for its maps.
     */
    private ProxyStatements proxy;

    boolean pinned;
    private boolean welcomed;
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
        this.lease = new BackendLease(client, services.events());
        this.causality = new SessionCausality(services.consistency, services.hasReplicas, services.router().commits(),
                user, database);
        this.memo = new StatementMemo(services.classifier());
        this.checkout = new Checkout(this);
        this.commits = new CommitLearner(this);
        this.cancelKey = services.cancels().register(this);
        this.backendRelay = new BackendRelay(this);
        this.input = new ClientInput(this, checkout);
        services.sessions().add(this);
    }

    private ReadRetry retry() {
        if (retry == null) {
            retry = new ReadRetry(this);
        }
        return retry;
    }

    /** Whether the session's ProxyStatements exists yet (see {@link #proxy()}). */
    boolean hasProxyStatements() {
        return proxy != null;
    }

    /** The session's ProxyStatements, made on first use (it starts empty, so nothing is lost by waiting). */
    ProxyStatements proxy() {
        if (proxy == null) {
            proxy = new ProxyStatements(causality.settings(), causality::commitLsn);
        }
        return proxy;
    }

    @Override
    public EventExecutor executor() {
        return loop;
    }

    @Override
    public String describeOwner() {
        return user + "@" + client.remoteAddress();
    }

    /** After authentication: borrow a backend to apply the client's settings and learn the values to report. */
    @Override
    public void start() {
        checkout.waitFor(checkout.loginTarget());
    }

    /** Complete client messages; takes ownership of {@code frames}. */
    @Override
    public void onClientFrames(ByteBuf frames) {
        input.onFrames(frames);
    }

    /** A connection the session waited for has arrived (see Checkout). */
    void onCheckedOut(BackendConnection b) {
        attach(b);
        if (!welcomed && lease.isSettled()) {
            welcome();
        }
        input.relayWaiting();
        if (cancelWhenSent) {
            cancelWhenSent = false;
            lease.cancelRunning(loop); // deferred by the lease while a hidden settings query runs first
        }
        updateClientAutoRead();
        afterBackendStep();
    }

    boolean isClosed() {
        return closed;
    }

    void attach(BackendConnection b) {
        BackendNode node = b.key().node();
        lease.attach(b, node, !node.isPrimary() && !pinned && !services.sessionPooling(), checkout.writes());
        backendRelay.attached();
        b.owner(this);
        lease.syncSettings(settings.settings());
    }

    boolean welcomed() {
        return welcomed;
    }

    /** Tells the client the login is complete, with the parameter values its backend now reports. */
    void welcome() {
        welcomed = true;
        client.writeAndFlush(ServerMessages.welcome(client.alloc(), lease.backend().reportedParameters(),
                cancelKey.processId(), cancelKey.secret()));
    }

    @Override
    public void onBackendData(BackendConnection b, ByteBuf frames) {
        if (b != lease.backend()) {
            frames.release();
            return;
        }
        // after Terminate, a COPY FROM STDIN (or COPY BOTH) the server starts waits for data that will never come
        boolean copyAfterTerminate = finishing
                && !io.pgbalancer.protocol.Frames.walk(frames, (type, buf, at, length) -> type != 'G' && type != 'W');
        backendRelay.relay(frames);
        if (copyAfterTerminate) {
            finishing = false;
            onClientClosed();
            return;
        }
        afterBackendStep();
    }

    /** Acts on the lease's state after the backend answered or was attached. */
    void afterBackendStep() {
        switch (lease.state()) {
            case RETRY_DUE -> retry().rerunRefused();
            case FAILED -> terminate(lease.failure().sqlState(), lease.failure().message());
            default -> {
                if (finishing) {
                    if (lease.tracker().isEmpty()) {
                        finishing = false;
                        onClientClosed(); // the client said Terminate and its last messages are answered
                    }
                } else if (lease.isSettled()) {
                    maybeRelease();
                }
            }
        }
    }

    /** At a settled ReadyForQuery: hands the backend back when the client is done with it. */
    private void maybeRelease() {
        boolean keep = lease.state() != BackendLease.State.IDLE || pinned || services.sessionPooling();
        if (input.endHold()) {
            if (keep) {
                input.relayWaiting(); // still in the transaction: the held cycle belongs to it
                return;
            }
        } else if (keep) {
            if (lease.state() == BackendLease.State.IDLE && lease.backend().key().node().isRetired()) {
                // pinned or session pooling on a server a reload or discovery removed: no new work goes there
                terminate("57P01", "terminating connection: the server " + lease.backend().key().node().backend().address()
                        + " was removed from pgbalancer's servers; reconnect");
            }
            return;
        }
        lease.release();
        if (draining) {
            terminate("57P01", "terminating connection due to administrator command");
            return;
        }
        input.reroute();
    }

    @Override
    public void onBackendClosed(BackendConnection b, Throwable cause) {
        if (b != lease.backend()) {
            return;
        }
        if (!welcomed && !closed) {
            retry().loginAgainAfterBackendDied(b); // the client has not even been told it is logged in
            return;
        }
        if (lease.replay().isOpen() && !closed && !finishing) {
            retry().rerunAfterReplicaDied(b); // the replica died before the client saw anything
            return;
        }
        lease.detach();
        b.key().node().ban(io.pgbalancer.routing.Router.BAN_NANOS); // died under its client
        finishing = false;
        terminate("08006", "pgbalancer: the server closed the connection unexpectedly (" + b + ")");
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection b, boolean writable) {
        if (b == lease.backend()) {
            updateClientAutoRead();
        }
    }

    @Override
    public void onClientWritabilityChanged() {
        Backpressure.clientWritabilityChanged(this);
    }

    void updateClientAutoRead() {
        Backpressure.updateClientAutoRead(this, !closed, input.isFull());
    }

    /**
     * A cancel for the query that waits for a server (pool, replay or primary wait) is forwarded as soon as that query
     * runs: to the client the query has started, and PostgreSQL would cancel it. A cancel with nothing waiting or
     * running is dropped, so it cannot reach the backend's next client.
     */
    @Override
    public void cancelRunningQuery() {
        loop.execute(() -> {
            if (!lease.isAttached() && checkout.isWaiting()) {
                cancelWhenSent = true;
            } else {
                lease.cancelRunning(loop);
            }
        });
    }

    public boolean holdsBackend() {
        return lease.isAttached();
    }

    /** Inside a transaction or owed answers (read from another thread: a glimpse, not a guarantee). */
    boolean busy() {
        BackendLease.State st = lease.state();
        return st != BackendLease.State.DETACHED && st != BackendLease.State.IDLE;
    }

    /** Graceful shutdown: close now if idle, else after the current transaction. */
    void drain() {
        loop.execute(() -> {
            draining = true;
            if (!lease.isAttached() || (pinned && lease.state() == BackendLease.State.IDLE)) {
                terminate("57P01", "terminating connection due to administrator command");
            }
        });
    }

    /** Sends a FATAL error and closes the client. */
    @Override
    public void terminate(String sqlState, String message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> terminate(sqlState, message));
            return;
        }
        if (client.isActive()) {
            client.writeAndFlush(ServerMessages.error(client.alloc(), "FATAL", sqlState, message))
                    .addListener(f -> client.close());
        }
        finishing = false; // after a Terminate too: the session ends now, answers still owed are not awaited
        onClientClosed();
    }

    void terminate(String reason) {
        terminate("57P01", reason);
    }

    /**
     * Terminate: answers still owed for earlier messages are awaited (and dropped) before the backend is judged, when
     * they will come: after an unfinished segment ({@code segmentEnded} false) the server never answers in full, so the
     * backend is ended now (it could not go back to the pool clean anyway).
     */
    void onClientTerminate(boolean segmentEnded) {
        client.close();
        if (lease.isAttached() && !lease.tracker().isEmpty() && segmentEnded) {
            finishing = true;
            return;
        }
        onClientClosed();
    }

    /** The client went away (Terminate, EOF, error): never leave its backend dirty in the pool. */
    @Override
    public void onClientClosed() {
        if (closed || finishing) {
            return;
        }
        closed = true;
        services.cancels().unregister(cancelKey);
        checkout.close();
        backendRelay.discardHeld();
        lease.replay().close();
        services.sessions().remove(this);
        input.release();
        if (lease.isAttached()) {
            lease.endForGoneClient(pinned || services.sessionPooling());
        }
    }
}

// Finds a backend for a session's next transaction: picks the server, takes an idle connection or waits in its pool.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgbalancer.config.PrimaryReads;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendLoginException;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolTimeoutException;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.ReadReason;
import io.pgbalancer.routing.Router;
import io.pgbalancer.routing.Target;
import io.pgbalancer.sql.Classification;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read goes to a replica that has replayed the WAL position the session's consistency requires (see
 * SessionCausality). When none has, the session waits up to routing.causal_wait for one (woken by the monitor), then
 * reads on the primary. A replica that refuses connections (no answer, or SQLSTATE class 57: starting, stopping,
 * recovering) is banned for a while and the read tries another server, so the client never sees the refusal. A cycle
 * that only changes settings ({@link Target#ANY}) runs on the primary while it takes connections, else on a replica
 * (the settings are replayed wherever the session goes next), so that with no primary a new pgjdbc connection's
 * {@code SET application_name} does not wait for one. Every other failure ends the session with an error that names
 * the server and the cause.
 */
final class Checkout implements java.util.function.Function<String, Classification> {
    private static final Logger log = LoggerFactory.getLogger(Checkout.class);

    private final ClientSession s;
    private final Router router;
    private boolean waiting;
    private long waitStartedNanos;
    private Target waitingFor;
    private int failedReplicaAttempts;
    /** Where the next checkout must go, overriding the classification (a read re-run on the primary). */
    private Target forced;
    /** The transaction being checked out was routed to the primary as one that may write (not a read, not ANY). */
    private boolean writes;
    /** Made by the first wait for replay, and for a primary (most sessions never wait: memory per idle client). */
    private ReplayWait replayWait;
    private PrimaryWait primaryWait;
    /** The staleness bound of the read being routed (a leading max_staleness hint), -1 when none. */
    private long hintStaleness = -1;

    Checkout(ClientSession session) {
        this.s = session;
        this.router = session.services.router();
    }

    /** The client's classification of its named statement {@code name}, for routing a Bind or Describe of it. */
    @Override
    public Classification apply(String name) {
        PreparedStatements.Statement st = s.statements.get(name);
        return st == null ? null : st.classification();
    }

    private PrimaryWait primaryWait() {
        if (primaryWait == null) {
            primaryWait = new PrimaryWait(s, router, this::primaryWaitEnded);
        }
        return primaryWait;
    }

    private ReplayWait replayWait() {
        if (replayWait == null) {
            replayWait = new ReplayWait(s, router, this::replayWaitEnded);
        }
        return replayWait;
    }

    private void resetPrimaryWait() {
        if (primaryWait != null) {
            primaryWait.reset();
        }
    }

    /** Where the cycle starting at {@code at} should run. Session pooling and s.pinned sessions use the primary. */
    Target route(ByteBuf frames, int at) {
        if (s.services.sessionPooling() || s.pinned) {
            return Target.PRIMARY;
        }
        Target t = router.transactions().routeCycle(frames, at, s.memo, this,
                s.settings.settings().readOnly());
        if (t == Target.REPLICA) {
            Classification c = router.transactions().deciding(frames, at, s.memo, this);
            hintStaleness = c == null ? Classification.NO_STALENESS_HINT : c.maxStalenessNanos();
        }
        return t;
    }

    boolean isWaiting() {
        return waiting;
    }

    /** Whether the transaction now checked out was routed to the primary as one that may write. */
    boolean writes() {
        return writes;
    }

    void force(Target target) {
        forced = target;
    }

    /** The forced target, if any, used up by this call. */
    Target takeForced() {
        Target t = forced;
        forced = null;
        return t;
    }

    /**
     * An idle connection for a transaction bound for {@code target}, or null: then the session waits for
     * {@link ClientSession#onCheckedOut}, or has been ended when no server may take it.
     */
    BackendConnection idleOrWait(Target target) {
        BackendNode chosen = pick(target);
        if (chosen == null) {
            return null;
        }
        BackendConnection idle = poolOf(chosen).pollIdle(s.loop);
        if (idle == null) {
            wait(target, chosen);
        } else {
            resetPrimaryWait();
            s.services.events().listener().checkoutWaited(0);
        }
        return idle;
    }

    /**
     * Where a new session logs in (applies its settings, learns the values to report): the primary, or while there
     * is none a replica, so that logging in and reading never need the primary. Session pooling stays on the primary.
     */
    Target loginTarget() {
        if (s.services.sessionPooling() || usablePrimary() != null || !router.hasReplicas()) {
            return Target.PRIMARY;
        }
        return Target.REPLICA;
    }

    /** Whether a settings-only cycle (Target.ANY) starting now would go to the primary. */
    boolean primaryTakesConnections() {
        return usablePrimary() != null;
    }

    /** The primary unless there is none or it is banned (it refused a connection, or the monitor cannot reach it). */
    private BackendNode usablePrimary() {
        BackendNode p = router.primary();
        return p == null || p.isBanned() ? null : p;
    }

    /** Waits for a connection to a server for {@code target}. */
    void waitFor(Target target) {
        BackendNode chosen = pick(target);
        if (chosen != null) {
            wait(target, chosen);
        }
    }

    /** The server for {@code target}; null when the transaction waits (pause, replay) or the session was ended. */
    private BackendNode pick(Target target) {
        if (s.services.pauses().holds(s.database)) {
            waiting = true;
            waitingFor = target;
            s.services.pauses().await(s.database, () -> s.loop.execute(() -> resumed(target)));
            return null;
        }
        writes = target == Target.PRIMARY;
        if (target == Target.PRIMARY) {
            BackendNode primary = router.primary();
            if (primary == null) {
                awaitPrimary(target, router.whyNoPrimary(), true);
            }
            return primary;
        }
        if (target == Target.ANY) {
            return pickAny();
        }
        long staleness = boundOf(s.causality.settings().maxStalenessNanos(), hintStaleness);
        return pickRead(s.causality.requiredLsn(), staleness, System.nanoTime() + causalWaitNanos(), false);
    }

    /**
     * For a cycle that only changes settings: the primary while it takes connections (where such a cycle always
     * ran), else any replica that is up, whatever its lag or the session's consistency (it reads nothing). With
     * neither, it waits for a primary like a write, woken by a new one or every recheck (a replica may be back).
     */
    private BackendNode pickAny() {
        BackendNode primary = usablePrimary();
        if (primary != null) {
            return primary;
        }
        BackendNode replica = router.anyReplica();
        if (replica != null) {
            return replica;
        }
        BackendNode known = router.primary();
        // a banned primary still in the topology: a wake-up on change would retry at once, in a loop
        awaitPrimary(Target.ANY, "no replica takes connections and " + (known == null ? router.whyNoPrimary()
                : "the primary " + known.backend().address() + " does not take connections now"), known == null);
        return null;
    }

    /** routing.causal_wait as configured now (a reload may change it). */
    private long causalWaitNanos() {
        return s.services.config().routing().causalWait().toNanos();
    }

    private static long boundOf(long a, long b) {
        return a < 0 ? b : b < 0 ? a : Math.min(a, b);
    }

    private BackendNode pickRead(long needed, long staleness, long deadline, boolean waited) {
        BackendNode n = router.forRead(needed, staleness);
        if (n != null) {
            router.reads().count(n.isPrimary() ? ReadReason.BALANCED
                    : waited ? ReadReason.AFTER_WAIT : ReadReason.CAUGHT_UP);
            return n;
        }
        ReadReason why = router.whyNoReplica(staleness);
        if (why == ReadReason.CONSISTENCY && deadline - System.nanoTime() > 0) {
            startReplayWait(needed, staleness, deadline);
            return null;
        }
        if (s.services.config().routing().primaryReads() == PrimaryReads.NEVER) {
            s.terminate("08006", NoReplicaError.message(router, why, needed, causalWaitNanos()));
            return null;
        }
        BackendNode primary = usablePrimary();
        if (primary == null) {
            awaitPrimary(Target.REPLICA, "no replica can take the read (" + why.label() + ") and "
                    + (router.primary() == null ? router.whyNoPrimary() : "the primary "
                    + router.primary().backend().address() + " does not take connections now"), true);
            return null;
        }
        router.reads().count(why);
        return primary;
    }

    /**
     * No server takes writes now (failover, or the primary refused connections): waits for one (see PrimaryWait).
     * Reads that a replica can take do not come here.
     */
    private void awaitPrimary(Target target, String why, boolean wakeOnChange) {
        if (replayWait != null) {
            replayWait.abandon(); // a read that waited for replay and now waits for a primary
        }
        if (primaryWait().await(why, wakeOnChange)) {
            waiting = true;
            waitingFor = target;
        }
    }

    /** The wait for a primary ended (one is there, or it is time to try again). */
    private void primaryWaitEnded() {
        waiting = false;
        // a login waiting for the primary may go to a replica now that the primary is known to be gone
        Target target = s.welcomed() ? waitingFor : loginTarget();
        BackendNode chosen = pick(target);
        if (chosen == null) {
            return; // waits again, or the session was ended
        }
        BackendConnection idle = poolOf(chosen).pollIdle(s.loop);
        if (idle != null) {
            resetPrimaryWait();
            s.onCheckedOut(idle);
        } else {
            wait(target, chosen);
        }
    }

    private void startReplayWait(long needed, long staleness, long deadline) {
        waiting = true;
        waitingFor = Target.REPLICA;
        replayWait().start(needed, staleness, deadline);
    }

    /** The wait for replay ended (a replica has replayed the position, or the deadline came). */
    private void replayWaitEnded() {
        waiting = false;
        if (s.isClosed()) {
            return;
        }
        ReplayWait w = replayWait;
        BackendNode chosen = pickRead(w.needed(), w.staleness(), w.deadline(), true);
        if (chosen == null) {
            return; // waits again (the replica was banned meanwhile), or the session was ended
        }
        router.reads().waited(w.finish());
        BackendConnection idle = poolOf(chosen).pollIdle(s.loop);
        if (idle != null) {
            resetPrimaryWait();
            s.onCheckedOut(idle);
        } else {
            wait(Target.REPLICA, chosen);
        }
    }

    /** A pause that held this transaction ended: it checks out now. */
    private void resumed(Target target) {
        waiting = false;
        if (s.isClosed()) {
            return;
        }
        BackendNode chosen = pick(target);
        if (chosen == null) {
            return;
        }
        BackendConnection idle = poolOf(chosen).pollIdle(s.loop);
        if (idle != null) {
            resetPrimaryWait();
            s.services.events().listener().checkoutWaited(0);
            s.onCheckedOut(idle);
        } else {
            wait(target, chosen);
        }
    }

    /** The session ended: a read waiting for replay, or a transaction waiting for a primary, stops waiting. */
    void close() {
        if (replayWait != null) {
            replayWait.close();
        }
        if (primaryWait != null) {
            primaryWait.close();
        }
    }

    private void wait(Target target, BackendNode chosen) {
        waitStartedNanos = System.nanoTime();
        waiting = true;
        waitingFor = target;
        chosen.waitStarted(); // the next read's choice counts this client as work on that server already
        // may complete at once (a connection another event loop released since pollIdle): the caller has queued the
        // input that asked for it before, so onCheckedOut finds it to send
        poolOf(chosen).acquire(s.loop).addListener(f -> onAcquired(f, chosen));
    }

    private BackendPool poolOf(BackendNode n) {
        return s.services.pools().pool(n, s.user, s.database);
    }

    private void onAcquired(Future<? super BackendConnection> f, BackendNode chosen) {
        waiting = false;
        chosen.waitEnded();
        if (!f.isSuccess()) {
            if (!s.isClosed()) {
                fail(f.cause(), chosen);
            }
            return;
        }
        BackendConnection b = (BackendConnection) f.getNow();
        if (s.isClosed()) {
            b.pool().release(b);
            return;
        }
        s.services.events().listener().checkoutWaited(System.nanoTime() - waitStartedNanos);
        failedReplicaAttempts = 0;
        resetPrimaryWait();
        s.onCheckedOut(b);
    }

    private void fail(Throwable cause, BackendNode chosen) {
        boolean refused = cause instanceof BackendLoginException e
                && (e.serverError() == null || e.serverError().sqlState().startsWith("57"));
        Target target = waitingFor;
        if (refused && !chosen.isPrimary() && (target == Target.REPLICA || target == Target.ANY)
                && failedReplicaAttempts++ < s.services.router().nodes().size()) {
            log.warn("{} failed ({}); no reads for it for {} s", chosen, cause.getMessage(),
                    TimeUnit.NANOSECONDS.toSeconds(Router.BAN_NANOS));
            chosen.ban(Router.BAN_NANOS);
            waitFor(target);
            return;
        }
        if (refused && target == Target.ANY && chosen.isPrimary()) {
            // a cycle that only changes settings need not wait for the primary: a replica takes it now
            log.info("{} refused a connection ({}); a settings-only cycle goes to a replica", chosen,
                    cause.getMessage());
            primaryRefused(chosen, cause);
            waitFor(Target.ANY);
            return;
        }
        if (refused && target == Target.PRIMARY) {
            // the primary is restarting, or died before the monitor noticed: wait for it or its successor
            if (primaryWait == null || !primaryWait.started()) {
                log.warn("{} refused a connection ({}); writes wait up to routing.primary_wait for a primary",
                        chosen, cause.getMessage());
            }
            // this session tries again after the recheck interval (the topology still names this server: a wake-up
            // on change would retry at once, in a loop)
            primaryRefused(chosen, cause);
            awaitPrimary(Target.PRIMARY, "the primary " + chosen.backend().address() + " refused connections ("
                    + cause.getMessage() + ")", false);
            return;
        }
        if (cause instanceof PoolTimeoutException) {
            s.terminate("53300", "pgbalancer: " + cause.getMessage());
        } else if (cause instanceof BackendLoginException e && e.serverError() != null) {
            ErrorFields err = e.serverError();
            s.terminate(err.sqlState(), err.message());
        } else {
            s.terminate("08006", "pgbalancer: " + cause.getMessage());
        }
    }

    /**
     * The primary refused a connection: logins, reads and settings-only cycles go elsewhere until the recheck
     * interval has passed; a role-auto primary counts as down at once.
     */
    private void primaryRefused(BackendNode chosen, Throwable cause) {
        chosen.ban(PrimaryWait.RECHECK_NANOS);
        if (chosen.backend().role() == io.pgbalancer.config.Role.AUTO) {
            // seen down before the monitor's next poll: a promoted server can take over at once
            chosen.status(chosen.status().failed(cause.getMessage(), System.nanoTime()));
            router.refreshRoles();
        }
    }
}

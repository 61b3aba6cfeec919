// Finds a backend for a session's next transaction: picks the server, takes an idle connection or waits in its pool.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.pool.BackendLoginException;
import io.pgbalancer.pool.BackendPool;
import io.pgbalancer.pool.PoolTimeoutException;
import io.pgbalancer.protocol.ErrorFields;
import io.pgbalancer.routing.BackendNode;
import io.pgbalancer.routing.Router;
import io.pgbalancer.routing.Target;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica that refuses connections (no answer, or SQLSTATE class 57: starting, stopping, recovering) is banned
 * for a while and the read tries another server, so the client never sees the refusal. Every other failure ends
 * the session with an error that names the server and the cause.
 */
final class Checkout {
    private static final Logger log = LoggerFactory.getLogger(Checkout.class);
    private static final String NOWHERE = "pgbalancer: no replica is available for a read and routing.primary_reads"
            + " is never";

    private final ClientSession s;
    private boolean waiting;
    private Target waitingFor;
    private int failedReplicaAttempts;
    /** Where the next checkout must go, overriding the classification (a read re-run on the primary). */
    private Target forced;

    Checkout(ClientSession session) {
        this.s = session;
    }

    /** Where the cycle starting at {@code at} should run. Session pooling and s.pinned sessions use the primary. */
    Target route(ByteBuf frames, int at) {
        if (s.services.sessionPooling() || s.pinned) {
            return Target.PRIMARY;
        }
        return s.services.router().transactions().routeCycle(frames, at, s.memo, name -> {
            PreparedStatements.Statement st = s.statements.get(name);
            return st == null ? null : st.classification();
        }, s.settings.settings().readOnly());
    }

    boolean isWaiting() {
        return waiting;
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
        BackendNode chosen = s.services.router().choose(target);
        if (chosen == null) {
            s.terminate("08006", NOWHERE);
            return null;
        }
        BackendConnection idle = poolOf(chosen).pollIdle(s.loop);
        if (idle == null) {
            wait(target, chosen);
        }
        return idle;
    }

    /** Waits for a connection to a server for {@code target}. */
    void waitFor(Target target) {
        BackendNode chosen = s.services.router().choose(target);
        if (chosen == null) {
            s.terminate("08006", NOWHERE);
            return;
        }
        wait(target, chosen);
    }

    private void wait(Target target, BackendNode chosen) {
        waiting = true;
        waitingFor = target;
        chosen.waitStarted(); // the next read's choice counts this client as work on that server already
        poolOf(chosen).acquire(s.loop).addListener(f -> onAcquired(f, chosen));
    }

    private BackendPool poolOf(BackendNode n) {
        return s.services.pools().pool(n.backend(), s.user, s.database);
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
        failedReplicaAttempts = 0;
        s.onCheckedOut(b);
    }

    private void fail(Throwable cause, BackendNode chosen) {
        boolean refused = cause instanceof BackendLoginException e
                && (e.serverError() == null || e.serverError().sqlState().startsWith("57"));
        if (refused && !chosen.isPrimary() && waitingFor == Target.REPLICA
                && failedReplicaAttempts++ < s.services.router().nodes().size()) {
            log.warn("{} failed ({}); no reads for it for {} s", chosen, cause.getMessage(),
                    TimeUnit.NANOSECONDS.toSeconds(Router.BAN_NANOS));
            chosen.ban(Router.BAN_NANOS);
            waitFor(Target.REPLICA);
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
}

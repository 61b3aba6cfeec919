// Runs a replica read again, invisibly to its client, after the replica refused it or died before answering.
package io.pgbalancer.session;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.pool.BackendConnection;
import io.pgbalancer.routing.Router;
import io.pgbalancer.routing.Target;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Only reads whose lease still has its replay window open get here: the client has seen nothing but held preamble
 * answers, so the copy of its messages can run again from scratch ahead of any input that waits behind it.
 */
final class ReadRetry {
    private static final Logger log = LoggerFactory.getLogger(ReadRetry.class);

    private final ClientSession s;
    /** Logins run again because their backend died before the client was welcomed. */
    private int loginRetries;

    ReadRetry(ClientSession session) {
        this.s = session;
    }

    /** The replica refused the read as a write and has settled: give it back and run the read on the primary. */
    void rerunRefused() {
        BackendLease lease = s.lease;
        Target target = lease.retryTarget();
        ByteBuf again = lease.replay().takeForReplay();
        BackendConnection b = lease.backend();
        lease.releaseAfterRefusal();
        s.services.router().countRetry(target == Target.PRIMARY);
        log.debug("read refused by {} as a write; running it again on the primary", b);
        s.input.reroute(again, target);
    }

    /**
     * The backend a login was applying the client's settings on died (or said FATAL) before the client heard that its
     * login is complete: ban that server for a while and log in again on another, at most once per server; the
     * client sees only the login that worked. (The read replay window a replica login opens holds no client message,
     * so {@link #rerunAfterReplicaDied} would re-run nothing and the login would never finish.)
     */
    void loginAgainAfterBackendDied(BackendConnection b) {
        if (s.lease.replay().isOpen()) {
            s.lease.abandonForReplay().release(); // a replica login: its window holds no client message
        } else {
            s.lease.tracker().clear();
            s.lease.detach();
        }
        b.key().node().ban(Router.BAN_NANOS);
        s.settings.abandon();
        if (++loginRetries > s.services.router().nodes().size()) {
            s.terminate("08006", "pgbalancer: the server closed the connection unexpectedly during login (" + b + ")");
            return;
        }
        log.info("{} closed while a login applied its settings there; no reads for it for a while, logging in again",
                b);
        s.checkout.waitFor(s.checkout.loginTarget());
    }

    /** The replica died (or said FATAL) before its client saw anything: ban it for a while, run the read elsewhere. */
    void rerunAfterReplicaDied(BackendConnection b) {
        ByteBuf again = s.lease.abandonForReplay();
        b.key().node().ban(Router.BAN_NANOS);
        s.settings.abandon();
        s.services.router().countRetry(false);
        log.info("{} closed during a read; no reads for it for a while, running the read elsewhere", b);
        s.input.reroute(again, null);
    }
}

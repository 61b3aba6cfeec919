// One configured server as the router sees it: role, weight, work in flight, capacity and a temporary ban.
package io.pgbalancer.routing;

import io.pgbalancer.config.Backend;
import io.pgbalancer.config.Role;
import io.pgbalancer.monitor.BackendStatus;
import java.util.concurrent.atomic.AtomicInteger;

public final class BackendNode {
    /** Replaced on reload when only weight or max_connections changed; host, port and role never change. */
    private volatile Backend backend;
    /** Set when a reload removed the server: no new work, its pools drain and close. */
    private volatile boolean retired;
    private final AtomicInteger inUse = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong transactions = new java.util.concurrent.atomic.AtomicLong();
    private volatile long bannedUntilNanos;
    private volatile long bannedAtNanos;
    /** Set by the admin console's BAN, cleared only by its UNBAN (the monitor's unban() leaves it). */
    private volatile boolean bannedByAdmin;
    private volatile BackendStatus status = BackendStatus.UNKNOWN;

    public BackendNode(Backend backend) {
        this.backend = backend;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * Whether it takes writes: configured primary, or role auto and the monitor's last poll answered "not in
     * recovery". (Whether it is <em>the</em> primary, the topology decides: see {@link Topology}.)
     */
    public boolean isPrimary() {
        Role r = backend.role();
        return r == Role.PRIMARY || (r == Role.AUTO && status.reachable() && !status.inRecovery());
    }

    /** The role it plays now as text: primary, replica, or unknown (role auto, not answering the monitor yet). */
    public String roleNow() {
        Role r = currentRole();
        return r == null ? "unknown" : r.yamlName();
    }

    /**
     * The role it plays now: the configured one, or for role auto what the monitor last saw (null before the first
     * answer, and while it does not answer).
     */
    public Role currentRole() {
        Role r = backend.role();
        if (r != Role.AUTO) {
            return r;
        }
        BackendStatus s = status;
        return !s.reachable() ? null : s.inRecovery() ? Role.REPLICA : Role.PRIMARY;
    }

    /** Takes a reloaded entry for the same server and role (new weight or max_connections). */
    public void update(Backend reloaded) {
        if (!reloaded.address().equals(backend.address()) || reloaded.role() != backend.role()) {
            throw new IllegalArgumentException(reloaded.address() + " " + reloaded.role() + " is not " + describe());
        }
        backend = reloaded;
    }

    /** A reload removed this server: running transactions finish, nothing new starts here. */
    public void retire() {
        retired = true;
    }

    public boolean isRetired() {
        return retired;
    }

    public int weight() {
        return backend.weight();
    }

    /** Client transactions currently holding a connection to this server. */
    public int inUse() {
        return inUse.get();
    }

    public void checkedOut() {
        inUse.incrementAndGet();
        transactions.incrementAndGet();
    }

    /** Transactions (checkouts) this server has been given so far. */
    public long transactions() {
        return transactions.get();
    }

    public void checkedIn() {
        inUse.decrementAndGet();
    }

    /** A client chose this server and waits for one of its connections (all of them are busy). */
    public void waitStarted() {
        waiting.incrementAndGet();
    }

    /** That client got its connection, or gave up. */
    public void waitEnded() {
        waiting.decrementAndGet();
    }

    /** Work in flight here: transactions holding a connection plus clients already waiting for one. */
    public int outstanding() {
        return inUse.get() + waiting.get();
    }

    /** At its max_connections: more work would pile up here instead of queueing. */
    public boolean atCapacity() {
        Integer max = backend.maxConnections();
        return max != null && inUse.get() >= max;
    }

    /** Keeps reads away for a while after the server refused a connection or died. */
    public void ban(long nanos) {
        long now = System.nanoTime();
        bannedAtNanos = now;
        bannedUntilNanos = now + nanos;
    }

    /**
     * Lifts a ban set before {@code pollStartedNanos} by a monitor poll that started after it and answered: one
     * terminated connection (pg_terminate_backend) keeps a server that still answers out for about a poll interval,
     * not for the whole ban.
     */
    public void unbanIfBannedBefore(long pollStartedNanos) {
        long until = bannedUntilNanos;
        if (until != 0 && bannedAtNanos - pollStartedNanos < 0) {
            bannedUntilNanos = 0;
        }
    }

    /** Lifts a ban: the server answers again. */
    public void unban() {
        bannedUntilNanos = 0;
    }

    /** The admin console's BAN: keeps reads away until {@link #unbanByAdmin()}. */
    public void banByAdmin() {
        bannedByAdmin = true;
    }

    public void unbanByAdmin() {
        bannedByAdmin = false;
    }

    public boolean isBannedByAdmin() {
        return bannedByAdmin;
    }

    /** What the monitor last saw of this server. */
    public BackendStatus status() {
        return status;
    }

    public void status(BackendStatus latest) {
        status = latest;
    }

    public boolean isBanned() {
        if (bannedByAdmin) {
            return true;
        }
        long until = bannedUntilNanos;
        return until != 0 && until - System.nanoTime() > 0;
    }

    public String describe() {
        return backend.role().name().toLowerCase() + " " + backend.host() + ":" + backend.port();
    }

    @Override
    public String toString() {
        return describe();
    }
}

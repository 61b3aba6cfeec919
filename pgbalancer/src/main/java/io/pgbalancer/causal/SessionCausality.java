// One client's part in causal reads: its latest commit position and the position its next read must see.
package io.pgbalancer.causal;

import io.pgbalancer.config.Consistency;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** All methods run on the session's event loop, except that the shared positions are thread-safe. */
public final class SessionCausality {
    /** Read on every use: a reload may change routing.consistency or add the first replica. */
    private final Supplier<Consistency> consistency;
    private final BooleanSupplier replicas;
    private final CommitPositions positions;
    private final AtomicLong userPosition;
    private final ProxySettings settings = new ProxySettings();
    private long commitLsn = Lsn.NONE;

    /** @param replicas whether any replica is configured: without one no read ever needs a position */
    public SessionCausality(Consistency consistency, boolean replicas, CommitPositions positions, String user,
                            String database) {
        this(() -> consistency, () -> replicas, positions, user, database);
    }

    /** @param consistency and @param replicas are asked on every use, so a reload applies to running sessions */
    public SessionCausality(Supplier<Consistency> consistency, BooleanSupplier replicas, CommitPositions positions,
                            String user, String database) {
        this.consistency = consistency;
        this.replicas = replicas;
        this.positions = positions;
        this.userPosition = positions.forUser(user, database);
    }

    /** Whether commit positions are learned at all: not with eventual consistency, nor without replicas. */
    public boolean learnsCommits() {
        return replicas.getAsBoolean() && consistency.get() != Consistency.EVENTUAL;
    }

    /** A transaction of this session committed at or before {@code lsn}. */
    public void committed(long lsn) {
        commitLsn = Lsn.max(commitLsn, lsn);
        positions.committed(userPosition, lsn);
    }

    /** The session's latest commit position (SHOW pgbalancer.commit_lsn), 0 when none. */
    public long commitLsn() {
        return commitLsn;
    }

    public ProxySettings settings() {
        return settings;
    }

    /** The WAL position a read starting now must see: the consistency scope's commits and SET pgbalancer.min_lsn. */
    public long requiredLsn() {
        long scope = switch (consistency.get()) {
            case SESSION -> commitLsn;
            case USER -> userPosition.get();
            case GLOBAL -> positions.global();
            case EVENTUAL -> Lsn.NONE;
        };
        return Lsn.max(scope, settings.minLsn());
    }
}

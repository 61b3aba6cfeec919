// One client's part in causal reads: its latest commit position and the position its next read must see.
package io.pgbalancer.causal;

import io.pgbalancer.config.Consistency;
import java.util.concurrent.atomic.AtomicLong;

/** All methods run on the session's event loop, except that the shared positions are thread-safe. */
public final class SessionCausality {
    private final Consistency consistency;
    private final CommitPositions positions;
    private final AtomicLong userPosition;
    private final ProxySettings settings = new ProxySettings();
    private long commitLsn = Lsn.NONE;

    public SessionCausality(Consistency consistency, CommitPositions positions, String user, String database) {
        this.consistency = consistency;
        this.positions = positions;
        this.userPosition = positions.forUser(user, database);
    }

    /** Whether commit positions are learned at all (everything but eventual consistency). */
    public boolean learnsCommits() {
        return consistency != Consistency.EVENTUAL;
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
        long scope = switch (consistency) {
            case SESSION -> commitLsn;
            case USER -> userPosition.get();
            case GLOBAL -> positions.global();
            case EVENTUAL -> Lsn.NONE;
        };
        return Lsn.max(scope, settings.minLsn());
    }
}

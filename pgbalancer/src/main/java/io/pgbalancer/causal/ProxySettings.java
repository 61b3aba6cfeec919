// A session's pgbalancer.* settings, set with SET pgbalancer.x and read by routing: min_lsn and max_staleness.
package io.pgbalancer.causal;

/** Values as last set by the client; all methods run on the session's event loop. */
public final class ProxySettings {
    /** No staleness bound. */
    public static final long UNBOUNDED = -1;

    private long minLsn = Lsn.NONE;
    private long maxStalenessNanos = UNBOUNDED;

    /** Reads of this session wait for a replica at or past this position (0: none). */
    public long minLsn() {
        return minLsn;
    }

    public void minLsn(long lsn) {
        this.minLsn = lsn;
    }

    /** Reads of this session go only to a replica at most this far behind (nanoseconds; UNBOUNDED: no bound). */
    public long maxStalenessNanos() {
        return maxStalenessNanos;
    }

    public void maxStalenessNanos(long nanos) {
        this.maxStalenessNanos = nanos;
    }
}

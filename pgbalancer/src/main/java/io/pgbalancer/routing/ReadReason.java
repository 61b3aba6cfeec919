// Why a read ran where it ran: the label of the reads-by-target metric.
package io.pgbalancer.routing;

public enum ReadReason {
    /** On a replica that had already replayed what the read must see. */
    CAUGHT_UP("replica", "caught_up"),
    /** On a replica, after waiting for it to replay what the read must see. */
    AFTER_WAIT("replica", "after_wait"),
    /** On the primary: no replica replayed the read's position within routing.causal_wait. */
    CONSISTENCY("primary", "consistency"),
    /** On the primary: every replica was beyond routing.max_lag. */
    LAG("primary", "lag"),
    /** On the primary: every replica was beyond the read's max_staleness. */
    STALENESS("primary", "staleness"),
    /** On the primary: no replica was up. */
    UNAVAILABLE("primary", "unavailable"),
    /** On the primary, balanced with the replicas (routing.primary_reads: always). */
    BALANCED("primary", "balanced");

    private final String target;
    private final String label;

    ReadReason(String target, String label) {
        this.target = target;
        this.label = label;
    }

    public String target() {
        return target;
    }

    public String label() {
        return label;
    }
}

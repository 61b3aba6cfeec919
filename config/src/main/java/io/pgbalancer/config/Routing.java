// purpose: read/write routing and load-balancing settings (YAML section "routing")
package io.pgbalancer.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Routing settings. {@code writeFunctions} extends the router's built-in list of functions that force a statement
 * to the primary; in a loaded configuration its entries are non-empty, as written (optionally schema-qualified),
 * and distinct ignoring case.
 */
public record Routing(Balance balance, PrimaryReads primaryReads, List<String> writeFunctions,
                      VolatileFunctions volatileFunctions, Consistency consistency, Duration causalWait,
                      MaxLag maxLag, Duration primaryWait) {
    public static final Balance DEFAULT_BALANCE = Balance.LEAST_OUTSTANDING;
    public static final PrimaryReads DEFAULT_PRIMARY_READS = PrimaryReads.FALLBACK;
    public static final List<String> DEFAULT_WRITE_FUNCTIONS = List.of();
    public static final VolatileFunctions DEFAULT_VOLATILE_FUNCTIONS = VolatileFunctions.REPLICA;
    public static final Consistency DEFAULT_CONSISTENCY = Consistency.USER;
    public static final Duration DEFAULT_CAUSAL_WAIT = Duration.ofMillis(50);
    /** How long a write waits for a primary while there is none (failover), before it fails. */
    public static final Duration DEFAULT_PRIMARY_WAIT = Duration.ofSeconds(10);

    public Routing {
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(primaryReads, "primaryReads");
        writeFunctions = List.copyOf(writeFunctions);
        Objects.requireNonNull(volatileFunctions, "volatileFunctions");
        Objects.requireNonNull(consistency, "consistency");
        Objects.requireNonNull(causalWait, "causalWait");
        Objects.requireNonNull(maxLag, "maxLag");
        Objects.requireNonNull(primaryWait, "primaryWait");
    }

    /** Routing options with the default primary_wait. */
    public Routing(Balance balance, PrimaryReads primaryReads, List<String> writeFunctions,
                   VolatileFunctions volatileFunctions, Consistency consistency, Duration causalWait, MaxLag maxLag) {
        this(balance, primaryReads, writeFunctions, volatileFunctions, consistency, causalWait, maxLag,
                DEFAULT_PRIMARY_WAIT);
    }

    /** The read/write routing options with the default consistency, causal wait and no lag bound. */
    public Routing(Balance balance, PrimaryReads primaryReads, List<String> writeFunctions,
                   VolatileFunctions volatileFunctions) {
        this(balance, primaryReads, writeFunctions, volatileFunctions, DEFAULT_CONSISTENCY, DEFAULT_CAUSAL_WAIT,
                MaxLag.NONE);
    }

    public static Routing defaults() {
        return new Routing(DEFAULT_BALANCE, DEFAULT_PRIMARY_READS, DEFAULT_WRITE_FUNCTIONS,
                DEFAULT_VOLATILE_FUNCTIONS);
    }
}

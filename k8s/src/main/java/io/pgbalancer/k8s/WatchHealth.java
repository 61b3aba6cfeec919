// purpose: decides when a watch has failed for longer than stale_after (and when it works again), counts failures
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two sources: the informers' exception handler ({@link #failed}: a list or watch request failed, the informer
 * retries on its own with exponential backoff) and a periodic {@link #check()}, which asks whether every informer
 * has listed and is watching, and runs a probe: a listing of the watched objects, compared with the caches
 * ({@link CacheLag}). The probe is needed because a fabric8 informer whose established watch connection drops keeps
 * reporting {@code isWatching()} while its watch manager reconnects in the background, however long the API server
 * stays away, and because a watch can stay connected and deliver nothing.
 * <p>
 * The watch is unhealthy from the first failure (or failed check), and at start until every informer has listed;
 * once that has lasted {@code staleAfter} the listener hears {@code stale = true}, and {@code stale = false} at the
 * first healthy check after that. Failures (failed requests, not a check that finds the informers still listing)
 * are counted and logged at WARN with backoff: the 1st, 2nd, 4th, 8th... of an outage.
 */
final class WatchHealth {
    /** Receives the stale/recovered transitions. */
    interface Listener {
        void health(boolean stale, String reason);
    }

    /** The probe: throws when the API server cannot be used or the caches are behind it. */
    interface Probe {
        void run() throws Exception;
    }

    private static final Logger LOG = LoggerFactory.getLogger(WatchHealth.class);
    private static final long NONE = Long.MIN_VALUE;

    private final String what;
    private final String forbiddenHint;
    private final long staleAfterNanos;
    private final BooleanSupplier watching;
    private final Probe probe;
    private final Listener listener;
    private final LongSupplier nanoTime;

    private final Object lock = new Object();
    private long unhealthySince;
    private long failures;
    private long outageFailures;
    private String lastError;
    private boolean stale;
    private volatile boolean closed;

    /**
     * @param what          e.g. {@code the EndpointSlice watch of Service pg-rw in namespace db}, used in messages
     * @param forbiddenHint added to the reason when the API answers 403 (which permission is missing)
     * @param watching      true when every informer has listed and is watching
     */
    WatchHealth(String what, String forbiddenHint, Duration staleAfter, BooleanSupplier watching, Probe probe,
                Listener listener, LongSupplier nanoTime) {
        this.what = what;
        this.forbiddenHint = forbiddenHint;
        this.staleAfterNanos = staleAfter.toNanos();
        this.watching = watching;
        this.probe = probe;
        this.listener = listener;
        this.nanoTime = nanoTime;
        this.unhealthySince = nanoTime.getAsLong();
    }

    /** How often {@link #check()} should run: a quarter of staleAfter, between 50 ms and 5 s. */
    static Duration checkInterval(Duration staleAfter) {
        long millis = Math.max(50, Math.min(5_000, staleAfter.toMillis() / 4));
        return Duration.ofMillis(millis);
    }

    /** The informers' exception handler: records the failure and always asks the informer to retry. */
    boolean failed(boolean started, Throwable t) {
        if (closed) {
            return true; // a stopped informer does not retry anyway
        }
        synchronized (lock) {
            if (unhealthySince == NONE) {
                unhealthySince = nanoTime.getAsLong();
            }
            recordFailure(describe(t), started ? "list or watch" : "initial list");
        }
        return true;
    }

    /** Runs the probe, then evaluates. Called periodically on one thread. */
    void check() {
        boolean listedAndWatching = watching.getAsBoolean();
        String error = null;
        try {
            probe.run();
        } catch (Exception e) {
            error = describe(e);
        }
        if (closed) {
            return; // the probe may have failed because the watcher is closing
        }
        boolean report = false;
        String reason = null;
        boolean nowStale;
        synchronized (lock) {
            long now = nanoTime.getAsLong();
            if (error == null && listedAndWatching) {
                if (unhealthySince != NONE) {
                    reason = what + " works again after " + seconds(now - unhealthySince) + " ("
                            + outageFailures + (outageFailures == 1 ? " failure)" : " failures)");
                    if (outageFailures > 0 || stale) {
                        LOG.info(reason);
                    }
                }
                report = stale;
                stale = false;
                unhealthySince = NONE;
                outageFailures = 0;
            } else {
                if (error != null) {
                    recordFailure(error, "probe");
                }
                if (unhealthySince == NONE) {
                    unhealthySince = now;
                }
                if (!stale && now - unhealthySince >= staleAfterNanos) {
                    stale = true;
                    report = true;
                    reason = "discovery is stale: " + what + " has not worked for " + seconds(now - unhealthySince)
                            + " (" + outageFailures + (outageFailures == 1 ? " failure" : " failures") + ", last: "
                            + (lastError == null || outageFailures == 0 ? "not listed and watching yet" : lastError)
                            + "); the last known endpoints stay in use";
                    LOG.warn(reason);
                }
            }
            nowStale = stale;
        }
        if (report) {
            listener.health(nowStale, reason);
        }
    }

    /** Stops reporting: failures seen while the informers stop are not failures. */
    void close() {
        closed = true;
    }

    boolean stale() {
        synchronized (lock) {
            return stale;
        }
    }

    /** Failed requests and checks since the start. */
    long failures() {
        synchronized (lock) {
            return failures;
        }
    }

    private void recordFailure(String error, String during) {
        failures++;
        outageFailures++;
        lastError = error;
        if (Long.bitCount(outageFailures) == 1) {
            LOG.warn("{} failed ({}, failure {} of this outage; the next report at failure {}): {}", what, during,
                    outageFailures, outageFailures * 2, error);
        }
    }

    private String describe(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof KubernetesClientException k && k.getStatus() != null && k.getCode() > 0) {
            Status status = k.getStatus();
            String message = "HTTP " + k.getCode() + (status.getReason() == null ? "" : " " + status.getReason())
                    + (status.getMessage() == null ? "" : ": " + status.getMessage());
            return k.getCode() == 403 ? message + " (" + forbiddenHint + ")" : message;
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return root == cause || root.getMessage() == null ? message
                : message + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1fs", nanos / 1e9);
    }
}

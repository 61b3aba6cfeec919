// purpose: tests WatchHealth's stale/recovered transitions, failure counting and reasons on a manual clock
package io.pgbalancer.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class WatchHealthTest {
    private long now = 1_000_000_000L;
    private boolean watching;
    private Exception probeError;
    private final List<String> events = new ArrayList<>();
    private final WatchHealth health = new WatchHealth("the watch", "grant it", Duration.ofSeconds(30),
            () -> watching, () -> {
                if (probeError != null) {
                    throw probeError;
                }
            }, (stale, reason) -> events.add(stale + ": " + reason), () -> now);

    private void after(Duration d) {
        now += d.toNanos();
    }

    @Test
    void startingUpIsNotAFailureUnlessItLastsLongerThanStaleAfter() {
        health.check();
        after(Duration.ofSeconds(29));
        health.check();
        assertEquals(List.of(), events);
        assertEquals(0, health.failures());

        after(Duration.ofSeconds(1));
        health.check();
        assertEquals(List.of("true: discovery is stale: the watch has not worked for 30.0s (0 failures, last: not"
                + " listed and watching yet); the last known endpoints stay in use"), events);
        assertTrue(health.stale());

        watching = true;
        health.check();
        assertEquals("false: the watch works again after 30.0s (0 failures)", events.get(1));
        assertFalse(health.stale());
    }

    @Test
    void staleAfterFailuresLastingStaleAfterThenRecovered() {
        watching = true;
        health.check();
        assertEquals(List.of(), events, "healthy from the start: nothing to report");

        probeError = new KubernetesClientException(new StatusBuilder().withCode(503).withReason("ServiceUnavailable")
                .withMessage("etcd is away").build());
        health.check();
        after(Duration.ofSeconds(10));
        assertTrue(health.failed(true, new CompletionException(new IOException("connection refused"))),
                "the informer always retries");
        after(Duration.ofSeconds(19));
        health.check();
        assertEquals(List.of(), events, "29 s: not stale yet");
        assertEquals(3, health.failures());

        after(Duration.ofSeconds(1));
        health.check();
        assertEquals(List.of("true: discovery is stale: the watch has not worked for 30.0s (4 failures, last: HTTP 503"
                + " ServiceUnavailable: etcd is away); the last known endpoints stay in use"), events);
        health.check();
        assertEquals(1, events.size(), "stale is reported once");

        probeError = null;
        after(Duration.ofSeconds(5));
        health.check();
        assertEquals("false: the watch works again after 35.0s (5 failures)", events.get(1));
        assertEquals(5, health.failures(), "the total stays");

        probeError = new IOException("down");
        health.check();
        after(Duration.ofSeconds(29));
        probeError = null;
        health.check();
        assertEquals(2, events.size(), "a short outage is not reported");
    }

    @Test
    void aForbiddenAnswerSaysWhichPermissionIsMissing() {
        probeError = new KubernetesClientException(new StatusBuilder().withCode(403).withReason("Forbidden")
                .withMessage("endpointslices is forbidden").build());
        after(Duration.ofMinutes(1));
        health.check();
        assertTrue(events.get(0).contains("last: HTTP 403 Forbidden: endpointslices is forbidden (grant it)"),
                events.get(0));
    }

    @Test
    void informerFailuresAlwaysRetryAndStartTheOutageClock() {
        watching = true;
        health.check();
        assertTrue(health.failed(false, new IOException("refused")));
        watching = false;
        after(Duration.ofSeconds(30));
        health.check();
        assertTrue(events.get(0).contains("(1 failure, last: refused)"), events.get(0));
    }

    @Test
    void aClosedHealthReportsNothing() {
        health.close();
        probeError = new IOException("interrupted");
        after(Duration.ofMinutes(1));
        health.check();
        assertEquals(List.of(), events);
        assertEquals(0, health.failures());
    }

    @Test
    void theCheckIntervalIsAQuarterOfStaleAfterWithinBounds() {
        assertEquals(Duration.ofSeconds(5), WatchHealth.checkInterval(Duration.ofSeconds(30)));
        assertEquals(Duration.ofMillis(2500), WatchHealth.checkInterval(Duration.ofSeconds(10)));
        assertEquals(Duration.ofMillis(50), WatchHealth.checkInterval(Duration.ofMillis(100)));
    }
}

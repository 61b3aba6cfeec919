// purpose: /health and /ready answer as Kubernetes probes expect: up, primary down, and through a graceful drain.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HttpProbesIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int httpPort(String yaml) {
        return Integer.parseInt(yaml.replaceAll("(?s).*port: (\\d+).*", "$1"));
    }

    @Test
    void healthyAndReadyWithAnswersThatSayWhy() throws Exception {
        String http = TestProxy.metricsYaml();
        try (TestProxy proxy = TestProxy.startWithReplicas(http)) {
            int port = httpPort(http);
            HttpResponse<String> health = get(port, "/health");
            assertEquals(200, health.statusCode(), health.body());
            assertTrue(health.body().startsWith("{\"status\":\"ok\",\"event_loops\":"), health.body());
            assertEquals("application/json; charset=utf-8", health.headers().firstValue("content-type").orElse(""));
            // The primary's first poll makes it ready; the replicas' polls may land a moment later.
            String ready = Poll.untilValue(Duration.ofSeconds(20), "ready once the monitor has polled every server",
                    () -> get(port, "/ready"), r -> r.statusCode() == 200 && r.body().contains("3 of 3")).body();
            assertTrue(ready.contains("\"ready\":true") && ready.contains("3 of 3 replicas take reads"), ready);
            HttpResponse<String> missing = get(port, "/nope");
            assertEquals(404, missing.statusCode());
            assertTrue(missing.body().contains("/health"), missing.body());
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/ready")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            assertEquals(200, get(port, "/metrics").statusCode());
        }
    }

    @Test
    void notReadyWhileThePrimaryDoesNotAnswerTheMonitor() throws Exception {
        String http = TestProxy.metricsYaml();
        int nowhere = TestProxy.freePort();
        try (TestProxy proxy = TestProxy.start("backends:\n  - {host: 127.0.0.1, port: " + nowhere
                + ", role: primary}\nmonitor: {interval: 200ms, connect_timeout: 1s}\n" + http)) {
            int port = httpPort(http);
            HttpResponse<String> ready = Poll.untilValue(Duration.ofSeconds(20), "the monitor to see the primary down",
                    () -> get(port, "/ready"), r -> r.body().contains("does not answer the monitor"));
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("\"ready\":false") && ready.body().contains("127.0.0.1:" + nowhere),
                    ready.body());
            assertEquals(200, get(port, "/health").statusCode(), "alive, though not ready");
        }
    }

    @Test
    void aDrainTurnsReadyOffAtOnceWhileHealthAndMetricsKeepAnswering() throws Exception {
        String http = TestProxy.metricsYaml();
        TestProxy proxy = TestProxy.startWithReplicas(http);
        int port = httpPort(http);
        Poll.until(Duration.ofSeconds(20), "ready", () -> get(port, "/ready").statusCode() == 200);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SELECT txid_current()"); // a running transaction keeps the drain going
            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> proxy.shutdown(Duration.ofSeconds(20)));
            HttpResponse<String> ready = Poll.untilValue(Duration.ofSeconds(10), "/ready to say draining",
                    () -> get(port, "/ready"), r -> r.statusCode() == 503);
            assertTrue(ready.body().contains("draining"), ready.body());
            assertEquals(200, get(port, "/health").statusCode(), "a draining process is alive");
            assertEquals(200, get(port, "/metrics").statusCode());
            c.commit(); // the transaction finishes; the drain can end
            shutdown.get(30, TimeUnit.SECONDS);
        }
    }
}

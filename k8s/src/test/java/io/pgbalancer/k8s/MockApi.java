// purpose: test helper: fabric8's mock API server in CRUD mode that can also answer errors and drop its connections
package io.pgbalancer.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import okhttp3.WebSocketListener;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * The CRUD dispatcher keeps the created objects and streams watch events (over WebSockets) to matching watches.
 * In front of it a switch: {@link #failWith} makes every request (lists, watch handshakes, the health probe) answer
 * an error Status until {@link #answer()}; {@link #silenceWatches} gives new watches a connection that stays mute. {@link #restart()} shuts the HTTP server down, which drops every open
 * watch connection, and starts a new one on the same port with the same objects: together they play an API server
 * that goes away and comes back, which is what a real cluster's control-plane upgrade or outage looks like to a pod.
 */
final class MockApi implements AutoCloseable {
    static final String NAMESPACE = "test";
    /** MockWebServer logs every request through java.util.logging; held here so the level sticks. */
    private static final java.util.logging.Logger MOCK_WEB_SERVER_LOG =
            java.util.logging.Logger.getLogger(MockWebServer.class.getName());

    static {
        MOCK_WEB_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private final Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    private final KubernetesMixedDispatcher crud = new KubernetesMixedDispatcher(responses);
    private final Switch dispatcher = new Switch();
    private final List<KubernetesClient> clients = new ArrayList<>();
    private KubernetesMockServer server;
    private final int port;
    /** The client tests use to create and change objects. */
    final KubernetesClient admin;

    /**
     * Answers errors while {@code failure} is set; with {@code silentWatches}, accepts new watches on a WebSocket
     * that never sends anything; else what the CRUD dispatcher says.
     */
    private final class Switch extends Dispatcher {
        volatile int failure;
        volatile boolean silentWatches;

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            if (silentWatches && request.getPath().contains("watch=true")) {
                return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                });
            }
            int code = failure;
            if (code != 0) {
                return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json")
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":" + code
                                + ",\"reason\":\"" + (code == 403 ? "Forbidden" : "InternalError")
                                + "\",\"message\":\"mock API server answers " + code + "\"}");
            }
            return crud.dispatch(request);
        }
    }

    MockApi() {
        // a port chosen here and bound with SO_REUSEADDR (MockWebServer sets it only for a given port), which the
        // accepted connections inherit, so that restart() can bind it again while old connections linger
        port = freePort();
        server = newServer();
        server.start(port);
        admin = client();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private KubernetesMockServer newServer() {
        return new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), responses,
                dispatcher, false);
    }

    /**
     * A new client for the code under test, with short retry intervals so that recovery is quick: informers and
     * watches retry after 20 ms doubling up to 640 ms, requests retry once.
     */
    KubernetesClient client() {
        KubernetesClient client = server.createClient(b -> b.editOrNewConfig()
                .withNamespace(NAMESPACE)
                .withWatchReconnectInterval(20)
                .withRequestRetryBackoffInterval(20)
                .withRequestRetryBackoffLimit(1)
                .withConnectionTimeout(2_000)
                .withRequestTimeout(5_000)
                .endConfig());
        clients.add(client);
        return client;
    }

    /** From now on every request gets {@code code} (403, 500...) with a Status body. */
    void failWith(int code) {
        dispatcher.failure = code;
    }

    void answer() {
        dispatcher.failure = 0;
    }

    /**
     * New watches connect but receive nothing (lists still work): a watch that is dead without knowing it, as behind
     * a proxy that lost the upstream connection. {@link #restart()} moves existing watches onto such connections.
     */
    void silenceWatches(boolean silent) {
        dispatcher.silentWatches = silent;
    }

    /** Drops every connection (open watches included) and serves again on the same port, same objects. */
    void restart() {
        KubernetesMockServer old = server;
        // shutdown() closes the listening socket at once, then waits up to 5 s for the threads serving open
        // WebSockets: let it wait elsewhere
        Thread stopper = new Thread(() -> {
            try {
                old.shutdown();
            } catch (RuntimeException e) {
                // threads serving dropped WebSockets outlived its 5 s wait: nothing left to do with them
            }
        }, "mock-api-shutdown");
        stopper.setDaemon(true);
        stopper.start();
        server = newServer();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                server.start(port);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                server = newServer(); // the listening socket is not closed yet: try again
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
    }

    EndpointSlice create(EndpointSlice slice) {
        return admin.discovery().v1().endpointSlices().inNamespace(NAMESPACE).resource(slice).create();
    }

    EndpointSlice replace(EndpointSlice slice) {
        return admin.discovery().v1().endpointSlices().inNamespace(NAMESPACE).resource(slice).update();
    }

    void deleteSlice(String name) {
        admin.discovery().v1().endpointSlices().inNamespace(NAMESPACE).withName(name).delete();
    }

    Pod create(Pod pod) {
        return admin.pods().inNamespace(NAMESPACE).resource(pod).create();
    }

    Pod replace(Pod pod) {
        return admin.pods().inNamespace(NAMESPACE).resource(pod).update();
    }

    @Override
    public void close() {
        clients.forEach(KubernetesClient::close);
        server.shutdown();
    }
}

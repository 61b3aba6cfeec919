// purpose: test helper: fabric8's mock API server in CRUD mode, clients for it, and EndpointSlices as a controller
// would write them, each endpoint a real server on 127.0.0.1.
package io.pgbalancer.it;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

final class MockKubernetes implements AutoCloseable {
    static final String NAMESPACE = "db";

    private final KubernetesMockServer api;
    /** While non-zero, every request is answered with this HTTP status (an API server in trouble). */
    private volatile int failure;
    /** The test's own client, to create and change objects. */
    final KubernetesClient admin;

    MockKubernetes() {
        // CRUD mode: the server keeps what clients create and streams watch events
        KubernetesMixedDispatcher crud = new KubernetesMixedDispatcher(new HashMap<>());
        Dispatcher errorsOrCrud = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                int code = failure;
                if (code != 0) {
                    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json")
                            .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":"
                                    + code + ",\"message\":\"the mock API server answers " + code + "\"}");
                }
                return crud.dispatch(request);
            }
        };
        api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), errorsOrCrud, false);
        api.init();
        admin = client();
    }

    /** From now on every request gets {@code code} (500, 503...), until {@link #answer()}. */
    void failWith(int code) {
        failure = code;
    }

    void answer() {
        failure = 0;
    }

    /** A client for pgbalancer, with quick reconnects; the caller closes it. */
    KubernetesClient client() {
        return api.createClient(b -> b.editOrNewConfig().withNamespace(NAMESPACE).withWatchReconnectInterval(50)
                .withRequestRetryBackoffInterval(50).endConfig());
    }

    /** One slice of {@code service} holding one ready endpoint: 127.0.0.1:{@code port}, pod {@code pod}. */
    static EndpointSlice slice(String name, String service, int port, String pod) {
        return new EndpointSliceBuilder()
                .withNewMetadata().withName(name).withNamespace(NAMESPACE)
                .addToLabels("kubernetes.io/service-name", service).endMetadata()
                .withAddressType("IPv4")
                .withPorts(new EndpointPortBuilder().withName("postgres").withPort(port).withProtocol("TCP").build())
                .withEndpoints(new EndpointBuilder().withAddresses("127.0.0.1")
                        .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
                        .withNewTargetRef().withKind("Pod").withName(pod).withNamespace(NAMESPACE).endTargetRef()
                        .build())
                .build();
    }

    /**
     * Waits until {@code watches} EndpointSlice watches are open: the mock server does not send a watch the changes
     * made between its list and its watch request, so a test changes nothing before.
     */
    void awaitWatches(int watches) throws InterruptedException {
        int seen = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (seen < watches) {
            RecordedRequest r = api.takeRequest(100, TimeUnit.MILLISECONDS);
            if (r != null && r.getPath().contains("endpointslices") && r.getPath().contains("watch=true")) {
                seen++;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + seen + " of " + watches + " EndpointSlice watches opened");
            }
        }
    }

    @Override
    public void close() {
        admin.close();
        api.destroy();
    }
}

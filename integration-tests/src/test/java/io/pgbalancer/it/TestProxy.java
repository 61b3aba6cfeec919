// Starts pgbalancer in-process in front of the test cluster, from a YAML config with sensible test defaults.
package io.pgbalancer.it;

import io.pgbalancer.cluster.LocalCluster;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.server.ProxyServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

public final class TestProxy implements AutoCloseable {
    private final ProxyServer server;
    private final int port;
    /** The Prometheus endpoint's port, 0 when the config enables none. */
    private final int metricsPort;

    /** The file the proxy loaded its configuration from; rewrite it to test reloads. */
    private final Path configFile;

    private TestProxy(ProxyServer server, int port, int metricsPort, Path configFile) {
        this.server = server;
        this.port = port;
        this.metricsPort = metricsPort;
        this.configFile = configFile;
    }

    /** The ${VAR} values the test configurations use. */
    static final Map<String, String> ENV = Map.of("APP_PASSWORD", TestCluster.APP_PASSWORD,
            "MD5_PASSWORD", TestCluster.MD5_PASSWORD, "CLEAR_PASSWORD", TestCluster.CLEAR_PASSWORD);

    /** A {@code metrics} section on a free port, to add to a config so that {@link #metric} can read the meters. */
    public static String metricsYaml() {
        return "http: {host: 127.0.0.1, port: " + freePort() + "}\n";
    }

    /** Transaction pooling, pool size {@code poolSize}, scram-sha-256 for clients. */
    public static TestProxy start(int poolSize) {
        return start("pool: {mode: transaction, size: " + poolSize + ", checkout_timeout: 5s}\n");
    }

    /**
     * @param extraYaml top-level sections to add or override (pool, auth, limits…); listen and backends are filled in
     *                  unless given. The text {@code ${PRIMARY_PORT}} is replaced by the primary's port.
     */
    public static TestProxy start(String extraYaml) {
        return startFrom(temporaryFile(yaml(extraYaml)));
    }

    /** The configuration {@link #start(String)} runs: listen on a free port, users, the primary, a short grace. */
    public static String yaml(String extraYaml) {
        LocalCluster cluster = TestCluster.get();
        int port = freePort();
        StringBuilder y = new StringBuilder();
        y.append("listen: {host: 127.0.0.1, port: ").append(port).append("}\n");
        if (!hasSection(extraYaml, "auth")) {
            y.append("auth:\n  method: scram-sha-256\n  users:\n")
                    .append("    - {name: app, password: \"${APP_PASSWORD}\"}\n")
                    .append("    - {name: md5user, password: \"${MD5_PASSWORD}\"}\n")
                    .append("    - {name: clearuser, password: \"${CLEAR_PASSWORD}\"}\n");
        }
        if (!hasSection(extraYaml, "backends")) {
            y.append("backends:\n  - {host: 127.0.0.1, port: ").append(cluster.primaryPort())
                    .append(", role: primary}\n");
        }
        if (!hasSection(extraYaml, "shutdown")) {
            y.append("shutdown: {grace_period: 2s}\n");
        }
        y.append(extraYaml.replace("${PRIMARY_PORT}", Integer.toString(cluster.primaryPort())));
        return y.toString();
    }

    /** Whether the YAML text has the top-level section (not a key of that name inside another one). */
    private static boolean hasSection(String yaml, String name) {
        return java.util.regex.Pattern.compile("(?m)^" + name + ":").matcher(yaml).find();
    }

    /** A temporary file (deleted at exit) holding {@code text}. */
    public static Path temporaryFile(String text) {
        try {
            Path dir = Files.createTempDirectory("pgbalancer-it-"); // its own directory: the proxy watches it
            dir.toFile().deleteOnExit();
            Path file = dir.resolve("pgbalancer.yaml");
            file.toFile().deleteOnExit();
            Files.writeString(file, text);
            return file;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A proxy running the configuration in {@code file}, which it reloads on change; ${VAR}s from {@link #ENV}. */
    public static TestProxy startFrom(Path file) {
        return startFrom(file, io.pgbalancer.discovery.Resolver.SYSTEM);
    }

    /** {@link #startFrom(Path)} with a Kubernetes API client (a mock server's) and this pod's name for peers. */
    public static TestProxy startFrom(Path file, io.fabric8.kubernetes.client.KubernetesClient kubernetes,
                                      String podName) {
        try {
            PgBalancerConfig config = ConfigLoader.load(file, ENV);
            return new TestProxy(new ProxyServer(config, file, ENV).kubernetes(kubernetes, podName).start(),
                    config.listen().port(), config.http().enabled() ? config.http().port() : 0, file);
        } catch (Exception e) {
            throw new IllegalStateException("could not start pgbalancer from " + file, e);
        }
    }

    /** {@link #startFrom(Path)} with a DNS resolver of the test's own for discovery.dns. */
    public static TestProxy startFrom(Path file, io.pgbalancer.discovery.Resolver dns) {
        try {
            PgBalancerConfig config = ConfigLoader.load(file, ENV);
            return new TestProxy(new ProxyServer(config, file, ENV).resolver(dns).start(), config.listen().port(),
                    config.http().enabled() ? config.http().port() : 0, file);
        } catch (Exception e) {
            String text;
            try {
                text = Files.readString(file);
            } catch (IOException io) {
                text = "(unreadable: " + io.getMessage() + ")";
            }
            throw new IllegalStateException("could not start pgbalancer with config:\n" + text, e);
        }
    }

    /**
     * Like {@link #start(String)}, with the primary and every replica of the test cluster as backends (in the order of
     * {@code TestCluster.get().replicaPorts()}). {@code replicaOptions[i]}, when given, is added to replica i's entry,
     * e.g. {@code "weight: 2"} or {@code "max_connections: 1"}; {@code extraYaml} must not declare backends itself.
     */
    public static TestProxy startWithReplicas(String extraYaml, String... replicaOptions) {
        if (extraYaml.contains("backends:")) {
            throw new IllegalArgumentException("startWithReplicas fills in the backends itself");
        }
        LocalCluster cluster = TestCluster.get();
        StringBuilder y = new StringBuilder("backends:\n  - {host: 127.0.0.1, port: ")
                .append(cluster.primaryPort()).append(", role: primary}\n");
        java.util.List<Integer> replicas = cluster.replicaPorts();
        for (int i = 0; i < replicas.size(); i++) {
            y.append("  - {host: 127.0.0.1, port: ").append(replicas.get(i)).append(", role: replica");
            if (i < replicaOptions.length && replicaOptions[i] != null && !replicaOptions[i].isBlank()) {
                y.append(", ").append(replicaOptions[i]);
            }
            y.append("}\n");
        }
        if (!extraYaml.contains("routing:")) {
            // Tests that check where reads ran expect them on replicas. Causal reads stay on (consistency user), and a
            // read after the client's own write waits for a replica instead of falling back to the primary after
            // 50 ms when a loaded test machine delays replay. Tests of the fallback set routing themselves.
            y.append("routing: {causal_wait: 10s}\n");
        }
        return start(extraYaml + (extraYaml.isEmpty() || extraYaml.endsWith("\n") ? "" : "\n") + y);
    }

    public int port() {
        return port;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** A pgjdbc connection as {@code app} to database {@code app}, with extra connection properties. */
    public Connection connect(String... keyValues) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return DriverManager.getConnection(jdbcUrl("app"), p);
    }

    /**
     * The sum of the current samples of the Prometheus metric {@code name} (e.g. {@code pgbalancer_pool_waiting})
     * whose labels include every {@code labels} pair ({@code "user", "app", ...}), read from the metrics endpoint;
     * 0 when no sample matches. The proxy must have been started with a {@link #metricsYaml()} section.
     */
    public double metric(String name, String... labels) throws IOException, InterruptedException {
        if (metricsPort == 0) {
            throw new IllegalStateException("this proxy has no metrics endpoint: start it with TestProxy.metricsYaml()");
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET /metrics: HTTP " + r.statusCode() + "\n" + r.body());
        }
        double sum = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String labelText = line.substring(name.length(), space);
            boolean matches = true;
            for (int i = 0; i + 1 < labels.length; i += 2) {
                String pair = labels[i] + "=\"" + labels[i + 1] + "\"";
                matches &= labelText.contains("{" + pair) || labelText.contains("," + pair);
            }
            if (matches) {
                sum += Double.parseDouble(line.substring(space + 1));
            }
        }
        return sum;
    }

    public Path configFile() {
        return configFile;
    }

    /** Reloads the configuration file now, as SIGHUP does. */
    public io.pgbalancer.reload.ConfigReloader.Outcome reload() {
        return server.reload("test");
    }

    public void shutdown(Duration grace) {
        server.shutdown(grace);
    }

    @Override
    public void close() {
        server.shutdown(Duration.ofSeconds(2));
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

// pgbalancer demo: a real primary + 2 streaming replicas on loopback with pgbalancer in front, until Ctrl-C.
package io.pgbalancer.cli;

import io.pgbalancer.cluster.LocalCluster;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.server.ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local PostgreSQL primary and replicas with pgbalancer in front of them.")
final class DemoCommand implements Callable<Integer> {
    static final String USER = "app";
    static final String PASSWORD = "app-password";
    static final String DATABASE = "app";

    @Option(names = "--port", defaultValue = "6432", description = "pgbalancer's port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--replicas", defaultValue = "2", description = "streaming replicas (default: ${DEFAULT-VALUE})")
    int replicas;

    @Option(names = "--pool-size", defaultValue = "20", description = "pool size (default: ${DEFAULT-VALUE})")
    int poolSize;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "keep the servers' data here and reuse it next time (default: a temporary directory)")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        LocalCluster.Builder builder = LocalCluster.builder().replicas(replicas)
                .user(USER, PASSWORD, "scram-sha-256").database(DATABASE).log(line -> System.err.println("[cluster] " + line));
        if (dataDir != null) {
            builder.dataDir(dataDir);
        }
        LocalCluster cluster = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "pgbalancer-demo-cluster"));
        Path configFile = cluster.dataDir().resolve("pgbalancer-demo.yaml");
        Files.writeString(configFile, configYaml(cluster));
        PgBalancerConfig config = ConfigLoader.load(configFile, Map.of("APP_PASSWORD", PASSWORD));
        ProxyServer server = new ProxyServer(config).start();
        System.out.println();
        System.out.println("pgbalancer demo is ready. Primary on port " + cluster.primaryPort() + ", replicas on "
                + cluster.replicaPorts().stream().map(String::valueOf).collect(Collectors.joining(", "))
                + ".");
        System.out.println("  Reads are balanced per query over the " + cluster.replicaPorts().size()
                + " replicas (least-outstanding); writes and transactions that write stay on the primary.");
        System.out.println("  psql:  PGPASSWORD=" + PASSWORD + " psql \"host=127.0.0.1 port=" + port
                + " user=" + USER + " dbname=" + DATABASE + "\"");
        System.out.println("  JDBC:  jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE + "?user=" + USER + "&password="
                + PASSWORD);
        System.out.println("  config: " + configFile + "   (Ctrl-C stops everything)");
        RunCommand.serveUntilSignal(server);
        return 0;
    }

    private String configYaml(LocalCluster cluster) {
        StringBuilder y = new StringBuilder();
        y.append("# Written by pgbalancer demo.\n");
        y.append("listen: {host: 127.0.0.1, port: ").append(port).append("}\n");
        y.append("pool: {mode: transaction, size: ").append(poolSize).append(", checkout_timeout: 5s}\n");
        y.append("auth:\n  method: scram-sha-256\n  users:\n    - {name: ").append(USER)
                .append(", password: \"${APP_PASSWORD}\"}\n");
        y.append("backends:\n  - {host: 127.0.0.1, port: ").append(cluster.primaryPort()).append(", role: primary}\n");
        for (int p : cluster.replicaPorts()) {
            y.append("  - {host: 127.0.0.1, port: ").append(p).append(", role: replica}\n");
        }
        y.append("routing: {balance: least-outstanding, primary_reads: fallback}\n");
        y.append("shutdown: {grace_period: 5s}\n");
        return y.toString();
    }
}

// pgbalancer run --config FILE: serves until SIGTERM/SIGINT, then shuts down gracefully.
package io.pgbalancer.cli;

import io.pgbalancer.config.ConfigException;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import io.pgbalancer.server.ProxyServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the proxy until SIGTERM or SIGINT.")
final class RunCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "YAML configuration file")
    Path file;

    @Override
    public Integer call() throws Exception {
        PgBalancerConfig config;
        try {
            config = ConfigLoader.load(file, System.getenv());
        } catch (ConfigException e) {
            System.err.println(e.report());
            return Main.EXIT_BAD_CONFIG;
        }
        ProxyServer server = new ProxyServer(config).start();
        serveUntilSignal(server, config);
        return 0;
    }

    /** Blocks until the JVM is asked to stop, then drains within the configured grace period. */
    static void serveUntilSignal(ProxyServer server, PgBalancerConfig config) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown(config.shutdown().gracePeriod());
            stopped.countDown();
        }, "pgbalancer-shutdown"));
        stopped.await();
    }
}

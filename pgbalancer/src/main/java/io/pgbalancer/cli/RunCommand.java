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
        ProxyServer server;
        try {
            server = new ProxyServer(config, file).start();
        } catch (Exception e) {
            // a taken port, an unreachable primary for a startup lookup: say what, where and why, then stop
            System.err.println("pgbalancer: could not start: " + e.getMessage());
            return 1;
        }
        serveUntilSignal(server);
        return 0;
    }

    /**
     * Blocks until SIGTERM, SIGINT or the admin console's SHUTDOWN, then drains within the grace period in effect.
     * SIGHUP reloads the configuration file (PgBouncer's convention). The signals are handled here rather than in a
     * shutdown hook: once the JVM shuts down on a signal its exit status is already 128+signal, and a graceful stop
     * should exit 0.
     */
    static void serveUntilSignal(ProxyServer server) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.countDown());
        }
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
            Thread t = new Thread(() -> server.reload("SIGHUP"), "pgbalancer-sighup-reload");
            t.setDaemon(true);
            t.start();
        });
        server.onShutdownRequest(stop::countDown); // the admin console's SHUTDOWN
        stop.await();
        server.shutdown(server.gracePeriod());
    }
}

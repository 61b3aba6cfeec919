// pgbalancer check-config FILE: lists every problem with its path (exit 1), or prints a one-line summary.
package io.pgbalancer.cli;

import io.pgbalancer.config.ConfigException;
import io.pgbalancer.config.ConfigLoader;
import io.pgbalancer.config.PgBalancerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Check a configuration file and report every problem in it.")
final class CheckConfigCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "YAML configuration file")
    Path file;

    @Override
    public Integer call() {
        try {
            PgBalancerConfig config = ConfigLoader.load(file, System.getenv());
            System.out.println(config.summary());
            return 0;
        } catch (ConfigException e) {
            System.err.println(e.report());
            return 1;
        }
    }
}

// Command-line entry point: pgbalancer run | check-config | demo, with --help and --version.
package io.pgbalancer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "pgbalancer", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "PostgreSQL connection pool that sends each read query to a replica.",
        subcommands = {RunCommand.class, CheckConfigCommand.class, DemoCommand.class})
public final class Main implements Runnable {
    /** Exit code for a configuration that cannot be used. */
    public static final int EXIT_BAD_CONFIG = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        ProcessDefaults.apply();
        String warning = LogFormat.select(System.getenv(LogFormat.ENV));
        if (warning != null) {
            org.slf4j.LoggerFactory.getLogger(Main.class).warn(warning);
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

// purpose: locates the PostgreSQL server binaries (env override, system install, pg_config, or embedded zonky bundle)
package io.pgbalancer.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A directory of PostgreSQL binaries. {@link #locate()} tries, in order:
 * <ol>
 *   <li>the embedded bundle if forced with system property {@value #FORCE_EMBEDDED_PROPERTY}=true
 *       or env {@value #FORCE_EMBEDDED_ENV}=true;</li>
 *   <li>env {@value #BIN_ENV} (or system property {@value #BIN_PROPERTY});</li>
 *   <li>the highest-version {@code /usr/lib/postgresql/N/bin} that holds postgres and initdb;</li>
 *   <li>{@code pg_config --bindir} of a pg_config on PATH;</li>
 *   <li>the embedded zonky bundle shipped as a Maven dependency (postgres, initdb, pg_ctl only).</li>
 * </ol>
 */
public final class PgBinaries {
    public static final String BIN_ENV = "PGBALANCER_PG_BIN";
    public static final String BIN_PROPERTY = "pgbalancer.pg.bin";
    public static final String FORCE_EMBEDDED_ENV = "PGBALANCER_PG_EMBEDDED";
    public static final String FORCE_EMBEDDED_PROPERTY = "pgbalancer.pg.embedded";
    private static final Path SYSTEM_ROOT = Path.of("/usr/lib/postgresql");
    private static final Pattern VERSION = Pattern.compile("(\\d+)(?:\\.(\\d+))?");

    private final Path binDir;
    private final String source;
    private volatile String version;

    private PgBinaries(Path binDir, String source) {
        this.binDir = binDir.toAbsolutePath().normalize();
        this.source = source;
    }

    /** Finds binaries as described in the class comment; throws {@link ClusterException} when none are usable. */
    public static PgBinaries locate() {
        if (flag(System.getProperty(FORCE_EMBEDDED_PROPERTY)) || flag(System.getenv(FORCE_EMBEDDED_ENV))) {
            return embedded();
        }
        String explicit = Optional.ofNullable(System.getProperty(BIN_PROPERTY)).orElse(System.getenv(BIN_ENV));
        if (explicit != null && !explicit.isBlank()) {
            PgBinaries b = new PgBinaries(Path.of(explicit.trim()), BIN_ENV);
            if (!b.hasServer()) {
                throw new ClusterException(BIN_ENV + "=" + explicit + " does not contain postgres and initdb");
            }
            return b;
        }
        Optional<PgBinaries> system = systemInstall();
        if (system.isPresent()) {
            return system.get();
        }
        Optional<PgBinaries> fromPgConfig = fromPgConfig();
        return fromPgConfig.orElseGet(PgBinaries::embedded);
    }

    /** Binaries in the given directory (must contain postgres and initdb). */
    public static PgBinaries at(Path binDir) {
        PgBinaries b = new PgBinaries(binDir, "explicit");
        if (!b.hasServer()) {
            throw new ClusterException(binDir + " does not contain postgres and initdb");
        }
        return b;
    }

    /** The embedded zonky bundle, extracted once into a cache directory. Has no psql, pgbench or pg_basebackup. */
    public static PgBinaries embedded() {
        return new PgBinaries(EmbeddedBinaries.extract(), "embedded");
    }

    /** Path of a required binary, e.g. "psql" or "pgbench"; throws {@link ClusterException} when it is missing. */
    public Path bin(String name) {
        return find(name).orElseThrow(() -> new ClusterException(
                "PostgreSQL binary '" + name + "' not found in " + binDir + " (" + source + ")"));
    }

    /** Path of a binary if present (the embedded bundle lacks psql, pgbench, pg_basebackup…). */
    public Optional<Path> find(String name) {
        Path p = binDir.resolve(name);
        return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }

    /** Server version such as "15.18", read from {@code postgres --version}. */
    public String version() {
        String v = version;
        if (v == null) {
            var r = PgProcessRunner.runRaw(List.of(bin("postgres").toString(), "--version"), Duration.ofSeconds(30));
            Matcher m = VERSION.matcher(r.output().replaceFirst("^[^)]*\\)", ""));
            if (!r.ok() || !m.find()) {
                throw ClusterException.step("cannot determine the PostgreSQL version", r.command(), r.exitCode(),
                        r.output(), null, null);
            }
            v = m.group(2) == null ? m.group(1) : m.group(1) + "." + m.group(2);
            version = v;
        }
        return v;
    }

    /** Major version, e.g. 15. */
    public int majorVersion() {
        String v = version();
        int dot = v.indexOf('.');
        return Integer.parseInt(dot < 0 ? v : v.substring(0, dot));
    }

    public Path binDir() {
        return binDir;
    }

    /** Where these binaries came from: PGBALANCER_PG_BIN, system, pg_config, embedded or explicit. */
    public String source() {
        return source;
    }

    public boolean isEmbedded() {
        return "embedded".equals(source);
    }

    @Override
    public String toString() {
        return "PostgreSQL binaries at " + binDir + " (" + source + ")";
    }

    private boolean hasServer() {
        return find("postgres").isPresent() && find("initdb").isPresent() && find("pg_ctl").isPresent();
    }

    private static boolean flag(String v) {
        return v != null && (v.equalsIgnoreCase("true") || v.equals("1") || v.equalsIgnoreCase("yes"));
    }

    private static Optional<PgBinaries> systemInstall() {
        if (!Files.isDirectory(SYSTEM_ROOT)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(SYSTEM_ROOT)) {
            return dirs.filter(d -> d.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                    .sorted(Comparator.comparingDouble((Path d) -> Double.parseDouble(d.getFileName().toString())).reversed())
                    .map(d -> new PgBinaries(d.resolve("bin"), "system"))
                    .filter(PgBinaries::hasServer)
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<PgBinaries> fromPgConfig() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            Path pgConfig = Path.of(dir.isEmpty() ? "." : dir, "pg_config");
            if (Files.isExecutable(pgConfig)) {
                try {
                    var r = PgProcessRunner.runRaw(List.of(pgConfig.toString(), "--bindir"), Duration.ofSeconds(30));
                    if (r.ok()) {
                        PgBinaries b = new PgBinaries(Path.of(r.output().trim()), "pg_config");
                        if (b.hasServer()) {
                            return Optional.of(b);
                        }
                    }
                } catch (ClusterException ignored) {
                    // try the next one
                }
            }
        }
        return Optional.empty();
    }
}

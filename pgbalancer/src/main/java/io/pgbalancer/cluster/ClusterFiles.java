// purpose: on-disk bookkeeping of a local cluster: cluster.properties (ports, for reuse), cluster.env (for scripts), temp dirs
package io.pgbalancer.cluster;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

final class ClusterFiles {
    static final String PROPERTIES = "cluster.properties";
    static final String ENV = "cluster.env";
    static final String PRIMARY_DIR = "primary";

    /** What is persisted about a cluster so that a kept data dir can be started again on the same ports. */
    record State(int primaryPort, List<Integer> replicaPorts, String pgVersion, String binDir) {
    }

    private ClusterFiles() {
    }

    static Path primaryDir(Path base) {
        return base.resolve(PRIMARY_DIR);
    }

    static Path replicaDir(Path base, int index) {
        return base.resolve("replica" + index);
    }

    /** True when the directory holds an initialized primary from an earlier run. */
    static boolean holdsCluster(Path base) {
        return Files.isRegularFile(primaryDir(base).resolve("PG_VERSION"));
    }

    static Optional<State> read(Path base) {
        Path file = base.resolve(PROPERTIES);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
            int primary = Integer.parseInt(p.getProperty("primary.port").trim());
            int count = Integer.parseInt(p.getProperty("replica.count", "0").trim());
            List<Integer> replicas = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                replicas.add(Integer.parseInt(p.getProperty("replica." + i + ".port").trim()));
            }
            return Optional.of(new State(primary, replicas, p.getProperty("pg.version", ""), p.getProperty("pg.bin", "")));
        } catch (IOException | RuntimeException e) {
            throw new ClusterException("cannot read " + file + ": " + e, e);
        }
    }

    /** Writes cluster.properties and cluster.env (PRIMARY_PORT, REPLICA_PORTS, PG_BIN, …) atomically. */
    static void write(Path base, State s) {
        Properties p = new Properties();
        p.setProperty("primary.port", Integer.toString(s.primaryPort()));
        p.setProperty("replica.count", Integer.toString(s.replicaPorts().size()));
        for (int i = 0; i < s.replicaPorts().size(); i++) {
            p.setProperty("replica." + i + ".port", Integer.toString(s.replicaPorts().get(i)));
        }
        p.setProperty("pg.version", s.pgVersion());
        p.setProperty("pg.bin", s.binDir());
        String env = "PRIMARY_PORT=" + s.primaryPort() + "\n"
                + "REPLICA_PORTS=" + s.replicaPorts().stream().map(String::valueOf).collect(Collectors.joining(",")) + "\n"
                + "PG_BIN=" + s.binDir() + "\n"
                + "PG_VERSION=" + s.pgVersion() + "\n"
                + "PG_HOST=127.0.0.1\n"
                + "PG_SUPERUSER=postgres\n"
                + "DATA_DIR=" + base.toAbsolutePath() + "\n";
        try {
            Path tmp = Files.createTempFile(base, PROPERTIES, ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(w, "pgbalancer local cluster");
            }
            publish(tmp, base.resolve(PROPERTIES));
            Path envTmp = Files.createTempFile(base, ENV, ".tmp");
            Files.writeString(envTmp, env, StandardCharsets.UTF_8);
            publish(envTmp, base.resolve(ENV));
        } catch (IOException e) {
            throw new ClusterException("cannot write cluster files in " + base + ": " + e, e);
        }
    }

    private static void publish(Path tmp, Path target) throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void createDirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ClusterException("cannot create cluster dir " + dir + ": " + e, e);
        }
    }

    /** A fresh directory under the system temp dir that other users (the server user) may traverse. */
    static Path createTempBase() {
        try {
            Path dir = Files.createTempDirectory("pgbalancer-cluster-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new ClusterException("cannot create a temp dir for the cluster: " + e, e);
        }
    }

    /** Deletes a tree, ignoring files that vanish meanwhile; never follows symlinks. */
    static void deleteRecursively(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                    if (exc instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw exc;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new ClusterException("cannot delete " + root + ": " + e, e);
        }
    }
}

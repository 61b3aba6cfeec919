// purpose: creates a streaming replica's data dir from the primary (pg_basebackup, or a low-level file-copy backup)
package io.pgbalancer.cluster;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Clones the primary into an empty replica dir. With pg_basebackup (system installs) it runs
 * {@code pg_basebackup -X stream -S <slot>}; the embedded bundle has no pg_basebackup, so then the
 * documented low-level API is used: pg_backup_start, copy the files, pg_backup_stop, write backup_label.
 * Either way the replica streams from a physical slot named after it, so the primary keeps the WAL it needs.
 */
final class ReplicaCloner {
    /** Top-level entries not copied at all (see "Backing up the data directory" in the PostgreSQL docs). */
    private static final Set<String> SKIP_FILES = Set.of("postmaster.pid", "postmaster.opts", PgServer.LOG_FILE,
            "standby.signal", "recovery.signal", "backup_label", "tablespace_map", "current_logfiles",
            "postgresql.auto.conf.tmp", "backup_label.old");
    /** Top-level directories copied empty. */
    private static final Set<String> EMPTY_DIRS = Set.of("pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem",
            "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans");

    private final PgBinaries binaries;
    private final PgProcessRunner runner;
    private final Consumer<String> log;

    ReplicaCloner(PgBinaries binaries, PgProcessRunner runner, Consumer<String> log) {
        this.binaries = binaries;
        this.runner = runner;
        this.log = log;
    }

    void cloneInto(PgServer primary, PgServer replica) {
        String slot = ServerConfig.slotName(replica.name());
        ensureSlot(primary, slot);
        replica.createEmptyDir();
        try {
            copyFrom(primary, replica, slot);
        } catch (RuntimeException e) {
            try { // leave no half-cloned dir behind: a kept data dir would look like an initialized replica
                ClusterFiles.deleteRecursively(replica.dir());
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void copyFrom(PgServer primary, PgServer replica, String slot) {
        if (binaries.find("pg_basebackup").isPresent()) {
            log.accept(replica.name() + ": pg_basebackup from " + primary.name());
            runner.check("pg_basebackup for " + replica.name() + " failed", List.of(binaries.bin("pg_basebackup").toString(),
                    "-h", PgJdbc.HOST, "-p", Integer.toString(primary.port()), "-U", PgJdbc.SUPERUSER,
                    "-D", replica.dir().toString(), "-X", "stream", "-S", slot, "-c", "fast", "--no-sync", "-w"),
                    Duration.ofMinutes(5), primary.logFile());
        } else {
            log.accept(replica.name() + ": no pg_basebackup in " + binaries.binDir() + ", copying files under pg_backup_start");
            fileCopyBackup(primary, replica);
        }
        try {
            Files.deleteIfExists(replica.logFile());
            Files.writeString(replica.dir().resolve("standby.signal"), "");
        } catch (IOException e) {
            throw new ClusterException("cannot prepare standby files in " + replica.dir() + ": " + e, e);
        }
        runner.chownRecursive(replica.dir());
    }

    /** Creates the physical slot (reserving WAL now) unless it exists. */
    static void ensureSlot(PgServer primary, String slot) {
        try (Connection c = PgJdbc.superuser(primary.port())) {
            PgJdbc.queryString(c, "SELECT pg_create_physical_replication_slot(" + PgJdbc.literal(slot) + ", true)"
                    + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = " + PgJdbc.literal(slot) + ")");
        } catch (SQLException e) {
            throw ClusterException.step("cannot create replication slot " + slot + " on " + primary, primary.logFile(), e);
        }
    }

    private void fileCopyBackup(PgServer primary, PgServer replica) {
        try (Connection c = PgJdbc.superuser(primary.port()); Statement st = c.createStatement()) {
            boolean pg15 = Integer.parseInt(PgJdbc.queryString(c, "SHOW server_version_num")) >= 150000;
            String label = "pgbalancer " + replica.name();
            st.execute(pg15 ? "SELECT pg_backup_start(" + PgJdbc.literal(label) + ", true)"
                    : "SELECT pg_start_backup(" + PgJdbc.literal(label) + ", true, false)");
            copyTree(primary.dir(), replica.dir());
            try (ResultSet rs = st.executeQuery(pg15
                    ? "SELECT labelfile, spcmapfile FROM pg_backup_stop(false)"
                    : "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, false)")) {
                rs.next();
                Files.writeString(replica.dir().resolve("backup_label"), rs.getString(1));
                String spcmap = rs.getString(2);
                if (spcmap != null && !spcmap.isEmpty()) {
                    Files.writeString(replica.dir().resolve("tablespace_map"), spcmap);
                }
            }
        } catch (SQLException | IOException e) {
            throw ClusterException.step("file-copy base backup of " + primary.name() + " into " + replica.dir() + " failed: " + e,
                    primary.logFile(), e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path rel = from.relativize(dir);
                Files.createDirectories(to.resolve(rel.toString()));
                if (rel.getNameCount() == 1 && EMPTY_DIRS.contains(rel.toString())) {
                    if (rel.toString().equals("pg_wal")) {
                        Files.createDirectories(to.resolve("pg_wal/archive_status"));
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path rel = from.relativize(file);
                String fileName = rel.getFileName().toString();
                if ((rel.getNameCount() == 1 && SKIP_FILES.contains(fileName))
                        || fileName.equals("pg_internal.init") || fileName.startsWith("pgsql_tmp")) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, to.resolve(rel.toString()), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.COPY_ATTRIBUTES);
                } catch (NoSuchFileException gone) {
                    // dropped while copying; WAL replay recreates what is needed
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }
        });
    }
}

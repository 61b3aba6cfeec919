// purpose: the container image, built without a Docker daemon by k8s/image/build.sh (Jib), is what the manifests
// expect: non-root user 10001, ports 6432 and 9930, a Java runtime of its own; unpacked into a directory and run there
// (chroot, as uid 10001) it serves a query against the test cluster.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ContainerImageIT {
    @TempDir
    Path dir;

    private static Path repository() {
        Path here = Path.of("").toAbsolutePath();
        return Files.exists(here.resolve("k8s/image/build.sh")) ? here : here.getParent();
    }

    /**
     * The project's files (tracked and new, as git lists them) copied to {@code target}: the image is built there, so
     * the nested Maven build does not rewrite the jars this test run is using.
     */
    private static void copyProject(Path target) throws Exception {
        Process ls = new ProcessBuilder("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                .directory(repository().toFile()).redirectErrorStream(false).start();
        byte[] listing = ls.getInputStream().readAllBytes();
        assertEquals(0, ls.waitFor(), "git ls-files");
        for (String name : new String(listing, StandardCharsets.UTF_8).split("\0")) {
            Path from = repository().resolve(name);
            if (name.isEmpty() || !Files.isRegularFile(from)) {
                continue; // deleted in the working tree
            }
            Path to = target.resolve(name);
            Files.createDirectories(to.getParent());
            Files.copy(from, to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    private static String run(Path log, Duration timeout, String... command) throws Exception {
        return runIn(repository(), log, timeout, command);
    }

    private static String runIn(Path directory, Path log, Duration timeout, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout + ":\n"
                    + Files.readString(log));
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    @Test
    void theImageRunsPgbalancerAsANonRootUserFromItsOwnRuntime() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "unpacking the image and running it with chroot needs root (CI runs as root)");
        Path project = Files.createDirectory(dir.resolve("project"));
        copyProject(project);
        runIn(project, dir.resolve("build.log"), Duration.ofMinutes(10), "bash", "k8s/image/build.sh");
        Path tar = project.resolve("pgbalancer/target/jib-image.tar");
        assertTrue(Files.size(tar) > 10_000_000, "an image with a Java runtime: " + Files.size(tar) + " bytes");

        Path unpacked = Files.createDirectory(dir.resolve("image"));
        run(dir.resolve("untar.log"), Duration.ofMinutes(1), "tar", "-xf", tar.toString(), "-C", unpacked.toString());
        ObjectMapper json = new ObjectMapper();
        JsonNode manifest = json.readTree(unpacked.resolve("manifest.json").toFile()).get(0);
        JsonNode config = json.readTree(unpacked.resolve(manifest.get("Config").asText()).toFile()).get("config");
        assertEquals("10001:10001", config.get("User").asText(), "runs as a non-root user");
        assertTrue(config.get("ExposedPorts").has("6432/tcp") && config.get("ExposedPorts").has("9930/tcp"),
                config.toString());
        List<String> entrypoint = new ArrayList<>();
        config.get("Entrypoint").forEach(e -> entrypoint.add(e.asText()));
        assertEquals("java", entrypoint.get(0), entrypoint.toString());
        assertEquals("io.pgbalancer.cli.Main", entrypoint.get(entrypoint.size() - 1), entrypoint.toString());

        Path rootfs = Files.createDirectory(dir.resolve("rootfs"));
        for (JsonNode layer : manifest.get("Layers")) {
            run(dir.resolve("layer.log"), Duration.ofMinutes(1), "tar", "-xzf",
                    unpacked.resolve(layer.asText()).toString(), "-C", rootfs.toString());
        }
        assertTrue(Files.isExecutable(rootfs.resolve("opt/java/bin/java")), "a runtime of its own");
        // what a container runtime provides: /proc (the loader finds the runtime's libraries through it)
        Path proc = Files.createDirectories(rootfs.resolve("proc"));
        run(dir.resolve("mount.log"), Duration.ofSeconds(30), "mount", "-t", "proc", "proc", proc.toString());
        try {
            runImage(rootfs, entrypoint);
        } finally {
            run(dir.resolve("umount.log"), Duration.ofSeconds(30), "umount", proc.toString());
        }
    }

    /** Runs the unpacked image's entrypoint as uid 10001: --version, then pgbalancer serving a query. */
    private void runImage(Path rootfs, List<String> entrypoint) throws Exception {

        // the image's entrypoint, with java at the PATH the image sets (chroot itself does not read the image's PATH)
        List<String> command = new ArrayList<>(List.of("chroot", "--userspec=10001:10001", rootfs.toString(),
                "/opt/java/bin/java"));
        command.addAll(entrypoint.subList(1, entrypoint.size()));
        List<String> version = new ArrayList<>(command);
        version.add("--version");
        String out = run(dir.resolve("version.log"), Duration.ofMinutes(1), version.toArray(String[]::new));
        assertTrue(out.startsWith("pgbalancer 0.1.0"), out);

        // the image serves: pgbalancer run in the unpacked image, in front of the test cluster's primary
        int port = TestProxy.freePort();
        String yaml = TestProxy.yaml("").replaceAll("listen: \\{host: 127.0.0.1, port: \\d+}",
                "listen: {host: 127.0.0.1, port: " + port + "}");
        Files.writeString(rootfs.resolve("tmp/pgbalancer.yaml"), yaml, StandardCharsets.UTF_8);
        List<String> serve = new ArrayList<>(command);
        serve.addAll(List.of("run", "--config", "/tmp/pgbalancer.yaml"));
        ProcessBuilder pb = new ProcessBuilder(serve).redirectErrorStream(true)
                .redirectOutput(dir.resolve("run.log").toFile());
        pb.environment().putAll(TestProxy.ENV);
        Process proxy = pb.start();
        try {
            Properties p = new Properties();
            p.setProperty("user", "app");
            p.setProperty("password", TestCluster.APP_PASSWORD);
            String answer = Poll.untilValue(Duration.ofSeconds(60), "the image's pgbalancer to answer", () -> {
                if (!proxy.isAlive()) {
                    throw new AssertionError("pgbalancer in the image exited:\n" + log(dir.resolve("run.log")));
                }
                try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port
                        + "/app", p); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT 'served by ' || current_user")) {
                    rs.next();
                    return rs.getString(1);
                } catch (java.sql.SQLException e) {
                    return null;
                }
            }, a -> a != null);
            assertEquals("served by app", answer);
        } finally {
            proxy.destroy();
            proxy.waitFor(20, TimeUnit.SECONDS);
            proxy.destroyForcibly();
        }
        assertTrue(log(dir.resolve("run.log")).contains("pgbalancer listening on"), log(dir.resolve("run.log")));
    }

    private static String log(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}

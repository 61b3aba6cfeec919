// purpose: servers must not outlive a SIGKILLed JVM: the watchdog stops them and removes the temp dir
package io.pgbalancer.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(150)
class LocalClusterKillTest {

    @Test
    void serversDieWithAKilledJvm() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", childClasspath(),
                ClusterKillTarget.class.getName()).redirectErrorStream(true).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        List<String> transcript = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (java.io.IOException ignored) {
                // child killed
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            String ready = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (ready == null && System.nanoTime() < deadline) {
                String line = lines.poll(1, TimeUnit.SECONDS);
                if (line != null) {
                    transcript.add(line);
                    ready = line.startsWith("READY ") ? line : null;
                }
                if (line == null && !child.isAlive()) {
                    break;
                }
            }
            assertNotNull(ready, "child never reported READY:\n" + String.join("\n", transcript));
            String[] parts = ready.split(" ");
            Path dir = Path.of(parts[1]);
            List<Integer> ports = new ArrayList<>();
            for (String p : parts[2].split(",")) {
                ports.add(Integer.parseInt(p));
            }
            assertEquals(2, ports.size());
            assertFalse(FreePorts.isClosed(ports.get(0)), "primary should be up before the kill");

            child.destroyForcibly(); // SIGKILL: no shutdown hooks run
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            for (int port : ports) {
                assertTrue(ClusterTestSupport.awaitClosed(port, Duration.ofSeconds(40)), "port " + port + " still open");
            }
            long dirDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (Files.exists(dir) && System.nanoTime() < dirDeadline) {
                Thread.sleep(100);
            }
            assertFalse(Files.exists(dir), "watchdog should delete the temp dir " + dir);
        } finally {
            child.destroyForcibly();
        }
    }

    /** This JVM's class path plus the code sources of what the child needs (launchers may use their own loaders). */
    private static String childClasspath() throws Exception {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)));
        for (Class<?> c : List.of(ClusterKillTarget.class, LocalCluster.class, org.postgresql.Driver.class)) {
            String location = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            if (!entries.contains(location)) {
                entries.add(location);
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }
}

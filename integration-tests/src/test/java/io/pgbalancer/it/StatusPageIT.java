// purpose: the status page rendered in headless Chromium against a running pgbalancer: every server with its role, health and the reads it served.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StatusPageIT {
    @TempDir
    Path dir;

    private static Path chromium() {
        for (String candidate : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        return null;
    }

    /** Runs headless Chromium on {@code url} with {@code mode} (--dump-dom or --screenshot=...); returns stdout. */
    private String chromium(Path binary, String url, String mode) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless=new", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1100,420",
                "--user-data-dir=" + dir.resolve("profile-" + mode.hashCode()), "--virtual-time-budget=5000", mode,
                url));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("chromium.err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), "chromium failed: " + Files.readString(dir.resolve("chromium.err")));
        return out;
    }

    @Test
    void thePageShowsEveryServerWithItsRoleHealthAndTheReadsItServed() throws Exception {
        Path binary = chromium();
        assumeTrue(binary != null, "chromium is not installed (apt-get install chromium)");
        String http = TestProxy.metricsYaml();
        int port = Integer.parseInt(http.replaceAll("(?s).*port: (\\d+).*", "$1"));
        try (TestProxy proxy = TestProxy.startWithReplicas(http); Connection c = proxy.connect();
             Statement st = c.createStatement()) {
            Poll.until(Duration.ofSeconds(20), "the monitor to see every server", () ->
                    proxy.metric("pgbalancer_backend_up") == 4);
            for (int i = 0; i < 90; i++) {
                try (ResultSet rs = st.executeQuery("SELECT " + i)) {
                    rs.next();
                }
            }
            String url = "http://127.0.0.1:" + port + "/";
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            Thread load = new Thread(() -> {
                try (Connection lc = proxy.connect(); Statement ls = lc.createStatement()) {
                    while (!stop.get()) {
                        ls.executeQuery("SELECT 1").close();
                        ran.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            load.start(); // reads while the page polls: its queries/s must show them
            // the page's polls run in Chromium's virtual time, a few real milliseconds apart: the load must already
            // be running when the page loads (a CI run once rendered 0.0 everywhere before it had started)
            Poll.until(Duration.ofSeconds(20), "the load to run", () -> ran.get() >= 200);
            String dom = "";
            double busiest = 0;
            try {
                // the rate shown is that of the last two polls, which virtual time puts a few real milliseconds
                // apart: an interval with no query in it shows 0.0, so up to three page loads are looked at
                for (int attempt = 0; attempt < 3 && busiest == 0; attempt++) {
                    dom = chromium(binary, url, "--dump-dom");
                    Matcher qps = Pattern.compile("<td class=\"qps num\">([0-9]+\\.[0-9])</td>").matcher(dom);
                    while (qps.find()) {
                        busiest = Math.max(busiest, Double.parseDouble(qps.group(1)));
                    }
                }
            } finally {
                stop.set(true);
                load.join();
            }
            assertTrue(busiest > 0, "the load shows as queries/s on some server:\n" + dom);
            List<Integer> replicas = TestCluster.get().replicaPorts();
            int primary = TestCluster.get().primaryPort();
            for (int p : replicas) {
                assertRow(dom, "127.0.0.1:" + p, "replica");
            }
            assertRow(dom, "127.0.0.1:" + primary, "primary");
            assertTrue(dom.contains("<span id=\"ready\">ready</span>"), "readiness rendered:\n" + dom);
            Matcher reads = Pattern.compile("reads: [^<]*replica/caught_up (\\d+)").matcher(dom);
            assertTrue(reads.find(), "the reads line:\n" + dom);
            assertTrue(Integer.parseInt(reads.group(1)) >= 90, "90 reads ran on replicas, the page says "
                    + reads.group(1));
            Path png = dir.resolve("status.png");
            chromium(binary, url, "--screenshot=" + png);
            assertTrue(Files.size(png) > 5_000, "a screenshot of the page: " + Files.size(png) + " bytes");
            Path kept = Path.of("target", "status-page.png");
            Files.copy(png, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The rendered row of {@code backend}: its role cell and an "up" health cell. */
    private static void assertRow(String dom, String backend, String role) {
        Matcher row = Pattern.compile("<tr data-backend=\"" + Pattern.quote(backend) + "\">(.*?)</tr>").matcher(dom);
        assertTrue(row.find(), "no row for " + backend + " in:\n" + dom);
        String cells = row.group(1);
        assertTrue(cells.contains("<td class=\"role\">" + role + "</td>"), backend + " role: " + cells);
        assertTrue(cells.contains("<td class=\"health up\">up</td>"), backend + " health: " + cells);
        assertTrue(cells.matches(".*<td class=\"qps num\">[0-9]+\\.[0-9]</td>.*"), backend + " queries/s: " + cells);
    }
}

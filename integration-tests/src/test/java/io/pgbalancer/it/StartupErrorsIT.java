// `run` refuses to start with a clear message, exit 1, when it cannot listen or cannot do a startup lookup.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupErrorsIT {
    @TempDir
    Path dir;

    private PsqlIT.Result run(String yaml) throws Exception {
        Path jar = Path.of(System.getProperty("user.dir")).resolve("../pgbalancer/target/pgbalancer.jar").normalize();
        Path config = dir.resolve("pgbalancer.yaml");
        Files.writeString(config, yaml);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "run", "--config", config.toString()));
        return PsqlIT.run(cmd, Map.of(), dir, 60);
    }

    @Test
    void portInUseIsNamedAndExits1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            PsqlIT.Result r = run("listen: {host: 127.0.0.1, port: " + port + "}\n"
                    + "auth: {users: [{name: app, password: x}]}\n"
                    + "backends: [{host: 127.0.0.1, port: " + TestCluster.get().primaryPort() + ", role: primary}]\n");
            assertEquals(1, r.exit(), r.describe());
            assertTrue(r.stderr().contains("cannot listen on 127.0.0.1:" + port), r.describe());
            assertTrue(r.stderr().contains("Address already in use"), r.describe());
        }
    }

    @Test
    void volatileFunctionLookupFailureNamesThePrimaryAndCause() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        PsqlIT.Result r = run("listen: {host: 127.0.0.1, port: " + TestProxy.freePort() + "}\n"
                + "auth: {users: [{name: app, password: x}]}\n"
                + "backends: [{host: 127.0.0.1, port: " + closedPort + ", role: primary}]\n"
                + "routing: {volatile_functions: primary}\n");
        assertEquals(1, r.exit(), r.describe());
        assertTrue(r.stderr().contains("routing.volatile_functions: primary"), r.describe());
        assertTrue(r.stderr().contains("127.0.0.1:" + closedPort), r.describe());
        assertTrue(r.stderr().contains("refused"), r.describe());
    }
}

// purpose: what every real-driver test class shares: a fresh pgbalancer with reads on the replicas per scenario.
package io.pgbalancer.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Subclasses say how to run one scenario of their driver's script; each test method names a scenario. */
abstract class DriverScenarios {
    private TestProxy proxy;

    @BeforeEach
    void startProxy() {
        proxy = TestProxy.startWithReplicas(DriverScripts.POOL);
    }

    @AfterEach
    void stopProxy() {
        proxy.close();
    }

    /** The driver's name, for failure messages. */
    abstract String driver();

    /** The command that runs the script; the scenario's name is added to it. */
    abstract List<String> command();

    /** The folder the script runs in. */
    abstract Path scripts();

    void scenario(String name) throws Exception {
        DriverScripts.assertScenarioPasses(driver(), command(), name, proxy, scripts(), Duration.ofSeconds(180));
    }
}

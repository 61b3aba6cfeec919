// Process-wide settings the launcher applies before Netty loads, unless the operator set them on the command line.
package io.pgbalancer.cli;

/**
 * Netty's leak detector samples one buffer allocation in 128 and records a stack trace for it: about 3% of the
 * proxy's CPU under pgbench -S in a profile. The server turns it off; {@code -Dio.netty.leakDetection.level=simple}
 * (or {@code paranoid}) on the java command line turns it back on to chase a leak. Tests run the server in their
 * own JVM without this launcher, so they keep Netty's detector.
 */
final class ProcessDefaults {
    static final String LEAK_DETECTION = "io.netty.leakDetection.level";
    /** Netty's older names for the same setting, which it still reads: an operator's choice under them is kept. */
    static final String LEGACY_LEAK_DETECTION = "io.netty.leakDetectionLevel";
    static final String NO_LEAK_DETECTION = "io.netty.noResourceLeakDetection";

    private ProcessDefaults() {
    }

    static void apply() {
        if (System.getProperty(LEAK_DETECTION) == null && System.getProperty(LEGACY_LEAK_DETECTION) == null
                && System.getProperty(NO_LEAK_DETECTION) == null) {
            System.setProperty(LEAK_DETECTION, "disabled");
        }
    }
}

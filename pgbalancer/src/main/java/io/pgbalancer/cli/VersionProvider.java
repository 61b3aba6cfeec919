// Reports the version recorded in the jar manifest at build time.
package io.pgbalancer.cli;

import picocli.CommandLine;

public final class VersionProvider implements CommandLine.IVersionProvider {
    /** The version from the jar manifest, or "(development build)" when running from classes. */
    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"pgbalancer " + version(),
                "Java " + System.getProperty("java.version")};
    }
}

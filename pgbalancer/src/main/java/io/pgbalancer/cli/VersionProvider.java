// Reports the version recorded in the jar manifest at build time.
package io.pgbalancer.cli;

import picocli.CommandLine;

public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"pgbalancer " + (v == null ? "(development build)" : v),
                "Java " + System.getProperty("java.version")};
    }
}

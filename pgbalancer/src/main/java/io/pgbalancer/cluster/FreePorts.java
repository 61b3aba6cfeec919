// purpose: picks free TCP ports on 127.0.0.1, never handing out the same one twice in this JVM
package io.pgbalancer.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

final class FreePorts {
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private FreePorts() {
    }

    /** A port that was bindable a moment ago; the caller retries with another one if the bind then fails. */
    static synchronized int pick() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(PgJdbc.HOST))) {
                int port = s.getLocalPort();
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new ClusterException("cannot find a free port on " + PgJdbc.HOST + ": " + e, e);
            }
        }
        throw new ClusterException("cannot find a free port on " + PgJdbc.HOST + " not used before in this JVM");
    }

    /** True when nothing accepts connections on the port (used to check that servers really stopped). */
    static boolean isClosed(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(PgJdbc.HOST, port), 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}

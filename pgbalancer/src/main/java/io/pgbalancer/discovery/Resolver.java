// Looks up every address of a host name (A and AAAA records); tests feed their own answers.
package io.pgbalancer.discovery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

@FunctionalInterface
public interface Resolver {
    List<InetAddress> resolve(String name) throws UnknownHostException;

    /** The system resolver (the JVM's address cache is shortened while DNS discovery runs: see DnsSource). */
    Resolver SYSTEM = name -> List.of(InetAddress.getAllByName(name));
}

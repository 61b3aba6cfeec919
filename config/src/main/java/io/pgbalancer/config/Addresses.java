// purpose: formats host:port pairs for messages and summaries (IPv6 literals in brackets)
package io.pgbalancer.config;

final class Addresses {
    private Addresses() {
    }

    static String format(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}

// One loaded server certificate: the Netty context that serves it and its channel binding data for SCRAM-PLUS.
package io.pgbalancer.tls;

import io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;

/**
 * @param endPoint the certificate's tls-server-end-point hash, or null when it has none (e.g. Ed25519), in which
 *     case SCRAM-SHA-256-PLUS is not offered
 */
public record TlsMaterial(SslContext context, X509Certificate certificate, byte[] endPoint) {
}

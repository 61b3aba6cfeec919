// The answer of a health or readiness check: ok or not, and its JSON body with the reason.
package io.pgbalancer.http;

public record Probe(boolean ok, String json) {
}

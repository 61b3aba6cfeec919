// A read-only glimpse of one client session for the admin console's SHOW CLIENTS (taken from another event loop).
package io.pgbalancer.session;

/** {@code address} is the client's remote address as text; {@code active} means it holds a backend connection. */
public record ClientSnapshot(String user, String database, String address, boolean active, boolean pinned) {
}

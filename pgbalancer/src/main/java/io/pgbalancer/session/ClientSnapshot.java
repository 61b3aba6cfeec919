// A read-only glimpse of one client session for the admin console's SHOW CLIENTS (taken from another event loop).
package io.pgbalancer.session;

/**
 * {@code address} is the client's remote address as text; {@code active} means it holds a backend connection;
 * {@code busy} that it is inside a transaction or waiting for answers (not idle on a pinned backend).
 */
public record ClientSnapshot(String user, String database, String address, boolean active, boolean pinned,
                             boolean busy) {
}

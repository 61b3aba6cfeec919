// A client waited checkout_timeout for a backend connection and none became free.
package io.pgbalancer.pool;

public final class PoolTimeoutException extends Exception {
    public PoolTimeoutException(String message) {
        super(message, null, false, false);
    }
}

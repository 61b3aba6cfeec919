// The innermost reason of a failure, for log lines and errors (TLS and JDBC wrap the socket's or server's reason).
package io.pgbalancer.net;

public final class RootCause {
    private RootCause() {
    }

    /** The innermost cause's message, or its class name when it has none. */
    public static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}

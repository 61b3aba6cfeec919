// An error pgbalancer answers itself for a pgbalancer.* statement: PostgreSQL's SQLSTATE, message, detail and hint.
package io.pgbalancer.causal;

/** Thrown while parsing or running a virtual statement; the session answers it as an ErrorResponse and goes on. */
public final class ProxyError extends RuntimeException {
    private final String sqlState;
    private final String detail;
    private final String hint;

    public ProxyError(String sqlState, String message, String detail, String hint) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.detail = detail;
        this.hint = hint;
    }

    public ProxyError(String sqlState, String message) {
        this(sqlState, message, null, null);
    }

    public String sqlState() {
        return sqlState;
    }

    /** The DETAIL field, or null. */
    public String detail() {
        return detail;
    }

    /** The HINT field, or null. */
    public String hint() {
        return hint;
    }

    @Override
    public String toString() {
        return sqlState + ": " + getMessage();
    }
}

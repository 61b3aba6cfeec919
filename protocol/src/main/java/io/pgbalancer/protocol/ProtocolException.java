// A violation of the PostgreSQL wire protocol by a peer; carries the SQLSTATE to report (08P01 unless said otherwise).
package io.pgbalancer.protocol;

public final class ProtocolException extends RuntimeException {
    public static final String PROTOCOL_VIOLATION = "08P01";

    private final String sqlState;

    public ProtocolException(String message) {
        this(PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}

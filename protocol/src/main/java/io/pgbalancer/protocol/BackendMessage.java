// The message types a PostgreSQL server sends (protocol 3.0), by their type byte.
package io.pgbalancer.protocol;

/** {@link #of} is a table lookup, cheap enough for every message on the forwarding path. */
public enum BackendMessage {
    PARSE_COMPLETE('1'),
    BIND_COMPLETE('2'),
    CLOSE_COMPLETE('3'),
    NOTIFICATION_RESPONSE('A'),
    COMMAND_COMPLETE('C'),
    DATA_ROW('D'),
    ERROR_RESPONSE('E'),
    COPY_IN_RESPONSE('G'),
    COPY_OUT_RESPONSE('H'),
    EMPTY_QUERY_RESPONSE('I'),
    BACKEND_KEY_DATA('K'),
    NOTICE_RESPONSE('N'),
    AUTHENTICATION('R'),
    PARAMETER_STATUS('S'),
    ROW_DESCRIPTION('T'),
    FUNCTION_CALL_RESPONSE('V'),
    COPY_BOTH_RESPONSE('W'),
    READY_FOR_QUERY('Z'),
    COPY_DONE('c'),
    COPY_DATA('d'),
    NO_DATA('n'),
    PORTAL_SUSPENDED('s'),
    PARAMETER_DESCRIPTION('t'),
    NEGOTIATE_PROTOCOL_VERSION('v'),
    /** A type byte this version of the protocol does not define. */
    UNKNOWN((char) 0);

    private static final BackendMessage[] BY_CODE = new BackendMessage[256];

    static {
        java.util.Arrays.fill(BY_CODE, UNKNOWN);
        for (BackendMessage m : values()) {
            if (m != UNKNOWN) {
                BY_CODE[m.code] = m;
            }
        }
    }

    /** The type byte on the wire. */
    public final byte code;

    BackendMessage(char code) {
        this.code = (byte) code;
    }

    public static BackendMessage of(byte type) {
        return BY_CODE[type & 0xFF];
    }

    /**
     * Answers the server sends before it executes anything, so a refusal can still follow them: ParseComplete,
     * BindComplete, CloseComplete, ParameterDescription, NoData and RowDescription.
     */
    public boolean isPreamble() {
        return this == PARSE_COMPLETE || this == BIND_COMPLETE || this == CLOSE_COMPLETE
                || this == PARAMETER_DESCRIPTION || this == NO_DATA || this == ROW_DESCRIPTION;
    }

    /** Messages a server may send at any time, even to an idle connection. */
    public boolean isAsynchronous() {
        return this == NOTICE_RESPONSE || this == PARAMETER_STATUS || this == NOTIFICATION_RESPONSE;
    }
}

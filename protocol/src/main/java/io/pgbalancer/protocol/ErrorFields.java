// Reads the fields of an ErrorResponse or NoticeResponse the proxy needs to act on (severity, SQLSTATE, message).
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

public record ErrorFields(String severity, String sqlState, String message) {

    /** Parses a whole 'E' or 'N' message starting at {@code start} (its type byte). Missing fields read as "". */
    public static ErrorFields parse(ByteBuf buf, int start, int length) {
        String severity = "";
        String code = "";
        String message = "";
        int at = start + 5;
        int end = start + length;
        while (at < end) {
            byte field = buf.getByte(at++);
            if (field == 0) {
                break;
            }
            int next = buf.indexOf(at, end, (byte) 0);
            if (next < 0) {
                break;
            }
            String value = buf.toString(at, next - at, StandardCharsets.UTF_8);
            switch (field) {
                case 'V' -> severity = value;
                case 'S' -> {
                    if (severity.isEmpty()) {
                        severity = value;
                    }
                }
                case 'C' -> code = value;
                case 'M' -> message = value;
                default -> {
                }
            }
            at = next + 1;
        }
        return new ErrorFields(severity, code, message);
    }

    @Override
    public String toString() {
        return severity + " " + sqlState + ": " + message;
    }
}

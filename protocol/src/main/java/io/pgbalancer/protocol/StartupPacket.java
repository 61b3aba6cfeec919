// The first packet of a connection: StartupMessage, SSLRequest, GSSENCRequest or CancelRequest.
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public record StartupPacket(int code, Map<String, String> parameters, List<String> unsupportedOptions,
                            int cancelProcessId, int cancelSecret) {
    public static final int PROTOCOL_3_0 = 196608;
    public static final int PROTOCOL_3_2 = 196610;
    public static final int SSL_REQUEST = 80877103;
    public static final int GSSENC_REQUEST = 80877104;
    public static final int CANCEL_REQUEST = 80877102;

    public boolean isStartup() {
        return code >> 16 == 3;
    }

    public int minorVersion() {
        return code & 0xFFFF;
    }

    /** Parses an untyped packet; {@code start} is the index of its length field. */
    public static StartupPacket parse(ByteBuf buf, int start, int length) {
        if (length < 8) {
            throw new ProtocolException("startup packet length: " + length + " (expected: >= 8)");
        }
        int code = buf.getInt(start + 4);
        int end = start + length;
        if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
            expectLength(code, length, 8);
            return new StartupPacket(code, Map.of(), List.of(), 0, 0);
        }
        if (code == CANCEL_REQUEST) {
            expectLength(code, length, 16);
            return new StartupPacket(code, Map.of(), List.of(), buf.getInt(start + 8), buf.getInt(start + 12));
        }
        if (code >> 16 != 3) {
            throw new ProtocolException("unsupported frontend protocol " + (code >> 16) + "." + (code & 0xFFFF)
                    + ": server supports 3.0 to 3.2");
        }
        Map<String, String> params = new LinkedHashMap<>();
        List<String> unsupported = new ArrayList<>();
        int at = start + 8;
        while (at < end && buf.getByte(at) != 0) {
            int afterName = Wire.endOfCString(buf, at, end, "startup parameter name");
            String name = buf.toString(at, afterName - 1 - at, java.nio.charset.StandardCharsets.UTF_8);
            int afterValue = Wire.endOfCString(buf, afterName, end, "startup parameter " + name);
            String value = buf.toString(afterName, afterValue - 1 - afterName, java.nio.charset.StandardCharsets.UTF_8);
            if (name.startsWith("_pq_.")) {
                unsupported.add(name);
            } else {
                params.put(name, value);
            }
            at = afterValue;
        }
        if (at != end - 1) {
            throw new ProtocolException("startup packet: parameters must end with a single terminator");
        }
        return new StartupPacket(code, Collections.unmodifiableMap(params), List.copyOf(unsupported), 0, 0);
    }

    private static void expectLength(int code, int length, int expected) {
        if (length != expected) {
            throw new ProtocolException("startup packet with code " + code + " has length " + length
                    + " (expected: " + expected + ")");
        }
    }
}

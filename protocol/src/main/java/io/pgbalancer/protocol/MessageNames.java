// Where the statement and portal names sit in Parse, Bind, Describe, Close and Execute, and how to read them.
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The one place that knows these layouts. Every method takes the index {@code at} of the message's type byte and
 * {@code end}, the index after the message, and returns the index just after a name's terminating NUL; a name runs
 * from its start to that index minus one. A missing NUL is a {@link ProtocolException}.
 */
public final class MessageNames {
    private MessageNames() {
    }

    /** Parse: the statement name comes first. */
    public static int parseStatementEnd(ByteBuf buf, int at, int end) {
        return Wire.endOfCString(buf, at + 5, end, "Parse statement name");
    }

    /** Bind: the portal name comes first. */
    public static int bindPortalEnd(ByteBuf buf, int at, int end) {
        return Wire.endOfCString(buf, at + 5, end, "Bind portal name");
    }

    /** Bind: the statement name follows the portal name. */
    public static int bindStatementEnd(ByteBuf buf, int afterPortal, int end) {
        return Wire.endOfCString(buf, afterPortal, end, "Bind statement name");
    }

    /** Describe and Close: a kind byte ('S' statement, 'P' portal), then the name, which starts at {@code at + 6}. */
    public static int targetEnd(ByteBuf buf, int at, int end) {
        return Wire.endOfCString(buf, at + 6, end, "Describe or Close name");
    }

    /** Describe and Close: 'S' for a statement, 'P' for a portal; a message too short for one is a ProtocolException. */
    public static byte targetKind(ByteBuf buf, int at, int end) {
        if (at + 5 >= end) {
            throw new ProtocolException("Describe or Close message without a target kind");
        }
        return buf.getByte(at + 5);
    }

    /** Execute: the portal name comes first. */
    public static int executePortalEnd(ByteBuf buf, int at, int end) {
        return Wire.endOfCString(buf, at + 5, end, "Execute portal name");
    }

    /** Whether the name {@code [from, afterNul)} is the empty (unnamed) one. */
    public static boolean isUnnamed(int from, int afterNul) {
        return afterNul - from <= 1;
    }

    /** The name {@code [from, afterNul)} as a string (UTF-8). */
    public static String read(ByteBuf buf, int from, int afterNul) {
        return buf.toString(from, afterNul - 1 - from, StandardCharsets.UTF_8);
    }
}

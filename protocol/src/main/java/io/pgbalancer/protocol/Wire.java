// Small readers and writers for the protocol's primitive types (C strings, length back-patching).
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

public final class Wire {
    private Wire() {
    }

    /** Index just past the NUL that ends the C string starting at {@code from}; throws if there is none before {@code end}. */
    public static int endOfCString(ByteBuf buf, int from, int end, String what) {
        if (from > end) {
            throw new ProtocolException(what + ": message too short"); // indexOf would search backwards from there
        }
        int nul = buf.indexOf(from, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException(what + ": missing string terminator");
        }
        return nul + 1;
    }

    public static String readCString(ByteBuf buf, int from, int end, String what) {
        int next = endOfCString(buf, from, end, what);
        return buf.toString(from, next - 1 - from, StandardCharsets.UTF_8);
    }

    public static void writeCString(ByteBuf buf, String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }

    /** Starts a typed message: writes the type and a length placeholder; returns the index of the length field. */
    public static int begin(ByteBuf buf, char type) {
        buf.writeByte(type);
        int at = buf.writerIndex();
        buf.writeInt(0);
        return at;
    }

    /** Fills in the length of a message started with {@link #begin}. */
    public static void end(ByteBuf buf, int lengthIndex) {
        buf.setInt(lengthIndex, buf.writerIndex() - lengthIndex);
    }
}

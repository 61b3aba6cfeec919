// Builds the frontend-format messages the proxy itself sends to backends (login, internal queries, re-Parse, cancel).
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Map;

public final class ClientMessages {
    private ClientMessages() {
    }

    public static ByteBuf startup(ByteBufAllocator alloc, Map<String, String> parameters) {
        ByteBuf buf = alloc.buffer(128);
        buf.writeInt(0);
        buf.writeInt(StartupPacket.PROTOCOL_3_0);
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            Wire.writeCString(buf, e.getKey());
            Wire.writeCString(buf, e.getValue());
        }
        buf.writeByte(0);
        buf.setInt(0, buf.writerIndex());
        return buf;
    }

    /** SSLRequest: asks the server to switch to TLS before the startup packet. */
    public static ByteBuf sslRequest(ByteBufAllocator alloc) {
        return alloc.buffer(8).writeInt(8).writeInt(StartupPacket.SSL_REQUEST);
    }

    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int processId, int secret) {
        ByteBuf buf = alloc.buffer(16);
        buf.writeInt(16);
        buf.writeInt(StartupPacket.CANCEL_REQUEST);
        buf.writeInt(processId);
        buf.writeInt(secret);
        return buf;
    }

    public static ByteBuf password(ByteBufAllocator alloc, String password) {
        ByteBuf buf = alloc.buffer();
        int at = Wire.begin(buf, 'p');
        Wire.writeCString(buf, password);
        Wire.end(buf, at);
        return buf;
    }

    public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, byte[] data) {
        ByteBuf buf = alloc.buffer();
        int at = Wire.begin(buf, 'p');
        Wire.writeCString(buf, mechanism);
        buf.writeInt(data.length);
        buf.writeBytes(data);
        Wire.end(buf, at);
        return buf;
    }

    public static ByteBuf saslResponse(ByteBufAllocator alloc, byte[] data) {
        ByteBuf buf = alloc.buffer();
        int at = Wire.begin(buf, 'p');
        buf.writeBytes(data);
        Wire.end(buf, at);
        return buf;
    }

    public static void query(ByteBuf buf, String sql) {
        int at = Wire.begin(buf, 'Q');
        Wire.writeCString(buf, sql);
        Wire.end(buf, at);
    }

    /** Parse with the statement name replaced; {@code rest} is the query text and parameter types, copied as is. */
    public static void parse(ByteBuf buf, String name, ByteBuf source, int restStart, int restEnd) {
        int at = Wire.begin(buf, 'P');
        buf.writeCharSequence(name, StandardCharsets.UTF_8);
        buf.writeByte(0);
        buf.writeBytes(source, restStart, restEnd - restStart);
        Wire.end(buf, at);
    }

    public static void terminate(ByteBuf buf) {
        buf.writeByte('X');
        buf.writeInt(4);
    }
}

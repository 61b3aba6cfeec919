// Builds the backend-format messages the proxy itself sends to clients (auth, status, errors, synthetic completions).
package io.pgbalancer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

public final class ServerMessages {
    /** pg_type oid of {@code text}. */
    public static final int TEXT_OID = 25;

    private ServerMessages() {
    }

    public static ByteBuf error(ByteBufAllocator alloc, String severity, String sqlState, String message) {
        ByteBuf buf = alloc.buffer(32 + message.length() * 3);
        error(buf, severity, sqlState, message, null, null);
        return buf;
    }

    /**
     * ErrorResponse with the fields in the server's order: S, V, C, M, then D and H when not null. A SQLSTATE that is
     * not five characters (an error a server sent without one, passed on) is written as XX000 (internal_error).
     */
    public static void error(ByteBuf buf, String severity, String sqlState, String message, String detail,
                             String hint) {
        int at = Wire.begin(buf, 'E');
        field(buf, 'S', severity);
        field(buf, 'V', severity);
        field(buf, 'C', sqlState != null && sqlState.length() == 5 ? sqlState : "XX000");
        field(buf, 'M', message);
        if (detail != null) {
            field(buf, 'D', detail);
        }
        if (hint != null) {
            field(buf, 'H', hint);
        }
        buf.writeByte(0);
        Wire.end(buf, at);
    }

    private static void field(ByteBuf buf, char code, String value) {
        buf.writeByte(code);
        Wire.writeCString(buf, value);
    }

    public static ByteBuf authOk(ByteBufAllocator alloc) {
        return auth(alloc, 0, null);
    }

    public static ByteBuf authCleartext(ByteBufAllocator alloc) {
        return auth(alloc, 3, null);
    }

    public static ByteBuf authMd5(ByteBufAllocator alloc, byte[] salt) {
        return auth(alloc, 5, salt);
    }

    public static ByteBuf authSasl(ByteBufAllocator alloc, List<String> mechanisms) {
        ByteBuf buf = alloc.buffer();
        int at = Wire.begin(buf, 'R');
        buf.writeInt(10);
        for (String m : mechanisms) {
            Wire.writeCString(buf, m);
        }
        buf.writeByte(0);
        Wire.end(buf, at);
        return buf;
    }

    public static ByteBuf authSaslContinue(ByteBufAllocator alloc, byte[] data) {
        return auth(alloc, 11, data);
    }

    public static ByteBuf authSaslFinal(ByteBufAllocator alloc, byte[] data) {
        return auth(alloc, 12, data);
    }

    private static ByteBuf auth(ByteBufAllocator alloc, int code, byte[] data) {
        ByteBuf buf = alloc.buffer(9 + (data == null ? 0 : data.length));
        int at = Wire.begin(buf, 'R');
        buf.writeInt(code);
        if (data != null) {
            buf.writeBytes(data);
        }
        Wire.end(buf, at);
        return buf;
    }

    public static void parameterStatus(ByteBuf buf, String name, String value) {
        int at = Wire.begin(buf, 'S');
        Wire.writeCString(buf, name);
        Wire.writeCString(buf, value);
        Wire.end(buf, at);
    }

    /** ParameterStatus for every entry, then BackendKeyData and ReadyForQuery(idle): the end of a login. */
    public static ByteBuf welcome(ByteBufAllocator alloc, Map<String, String> parameters, int processId, int secret) {
        ByteBuf buf = alloc.buffer(512);
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            parameterStatus(buf, e.getKey(), e.getValue());
        }
        int at = Wire.begin(buf, 'K');
        buf.writeInt(processId);
        buf.writeInt(secret);
        Wire.end(buf, at);
        readyForQuery(buf, 'I');
        return buf;
    }

    public static ByteBuf readyForQuery(ByteBufAllocator alloc, char status) {
        ByteBuf buf = alloc.buffer(6);
        readyForQuery(buf, status);
        return buf;
    }

    public static void readyForQuery(ByteBuf buf, char status) {
        buf.writeByte('Z');
        buf.writeInt(5);
        buf.writeByte(status);
    }

    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, int newestMinor, List<String> unsupported) {
        ByteBuf buf = alloc.buffer();
        int at = Wire.begin(buf, 'v');
        buf.writeInt(newestMinor);
        buf.writeInt(unsupported.size());
        for (String option : unsupported) {
            Wire.writeCString(buf, option);
        }
        Wire.end(buf, at);
        return buf;
    }

    public static ByteBuf parseComplete(ByteBufAllocator alloc) {
        return empty(alloc, '1');
    }

    public static ByteBuf closeComplete(ByteBufAllocator alloc) {
        return empty(alloc, '3');
    }

    private static ByteBuf empty(ByteBufAllocator alloc, char type) {
        ByteBuf buf = alloc.buffer(5);
        empty(buf, type);
        return buf;
    }

    /** A message with no body: ParseComplete '1', BindComplete '2', CloseComplete '3', NoData 'n', PortalSuspended 's'. */
    public static void empty(ByteBuf buf, char type) {
        buf.writeByte(type);
        buf.writeInt(4);
    }

    /** RowDescription of one text column (oid 25, typlen -1, typmod -1) not from a table, as SHOW describes itself. */
    public static void textRowDescription(ByteBuf buf, String column, int format) {
        textRowDescription(buf, List.of(column), format);
    }

    /** RowDescription of text columns (oid 25, text format) not from a table, as the admin console's SHOW uses. */
    public static void textRowDescription(ByteBuf buf, List<String> columns) {
        textRowDescription(buf, columns, 0);
    }

    private static void textRowDescription(ByteBuf buf, List<String> columns, int format) {
        int at = Wire.begin(buf, 'T');
        buf.writeShort(columns.size());
        for (String column : columns) {
            Wire.writeCString(buf, column);
            buf.writeInt(0); // table oid
            buf.writeShort(0); // column number
            buf.writeInt(TEXT_OID);
            buf.writeShort(-1); // typlen: varlena
            buf.writeInt(-1); // typmod
            buf.writeShort(format);
        }
        Wire.end(buf, at);
    }

    /** DataRow of text values in UTF-8; a null value is SQL NULL. */
    public static void dataRow(ByteBuf buf, String... values) {
        int at = Wire.begin(buf, 'D');
        buf.writeShort(values.length);
        for (String v : values) {
            if (v == null) {
                buf.writeInt(-1);
            } else {
                int len = buf.writerIndex();
                buf.writeInt(0);
                int n = buf.writeCharSequence(v, StandardCharsets.UTF_8);
                buf.setInt(len, n);
            }
        }
        Wire.end(buf, at);
    }

    public static void commandComplete(ByteBuf buf, String tag) {
        int at = Wire.begin(buf, 'C');
        Wire.writeCString(buf, tag);
        Wire.end(buf, at);
    }

    public static void parameterDescription(ByteBuf buf, int[] typeOids) {
        int at = Wire.begin(buf, 't');
        buf.writeShort(typeOids.length);
        for (int oid : typeOids) {
            buf.writeInt(oid);
        }
        Wire.end(buf, at);
    }
}

// Encodes admin console replies as protocol messages (RowDescription, DataRow, CommandComplete, ErrorResponse).
package io.pgbalancer.admin;

import io.netty.buffer.ByteBuf;
import io.pgbalancer.protocol.ServerMessages;
import java.util.List;

final class AdminReplyWriter {
    private AdminReplyWriter() {
    }

    static void write(ByteBuf buf, AdminReply reply) {
        if (reply instanceof AdminReply.Rows rows) {
            ServerMessages.textRowDescription(buf, rows.columns());
            for (List<String> row : rows.rows()) {
                ServerMessages.dataRow(buf, row.toArray(String[]::new));
            }
            ServerMessages.commandComplete(buf, "SHOW");
        } else if (reply instanceof AdminReply.Done done) {
            ServerMessages.commandComplete(buf, done.tag());
        } else if (reply instanceof AdminReply.Failed failed) {
            ServerMessages.error(buf, "ERROR", failed.sqlState(), failed.message(), null, null);
        }
    }
}

// purpose: MessageNames finds and reads the statement and portal names of Parse, Bind, Describe, Close and Execute
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MessageNamesTest {
    private static ByteBuf message(char type, String... cstrings) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('x'); // something before the message, so offsets are relative to it
        b.writeByte(type).writeInt(0);
        for (String s : cstrings) {
            if (s.length() == 1 && (s.equals("S") || s.equals("P")) && (type == 'D' || type == 'C')
                    && b.writerIndex() == 6) {
                b.writeByte(s.charAt(0));
            } else {
                b.writeCharSequence(s, StandardCharsets.UTF_8);
                b.writeByte(0);
            }
        }
        b.setInt(2, b.writerIndex() - 2);
        return b;
    }

    @Test
    void bindHasThePortalThenTheStatement() {
        ByteBuf b = message('B', "portal_1", "stmt_é");
        int afterPortal = MessageNames.bindPortalEnd(b, 1, b.writerIndex());
        assertEquals("portal_1", MessageNames.read(b, 6, afterPortal));
        int afterStatement = MessageNames.bindStatementEnd(b, afterPortal, b.writerIndex());
        assertEquals("stmt_é", MessageNames.read(b, afterPortal, afterStatement));
        b.release();
    }

    @Test
    void describeAndCloseCarryAKindThenTheName() {
        ByteBuf b = message('D', "S", "s1");
        assertEquals('S', MessageNames.targetKind(b, 1, b.writerIndex()));
        assertEquals("s1", MessageNames.read(b, 7, MessageNames.targetEnd(b, 1, b.writerIndex())));
        b.release();
    }

    @Test
    void emptyNamesAreUnnamed() {
        ByteBuf b = message('P', "", "select 1");
        int after = MessageNames.parseStatementEnd(b, 1, b.writerIndex());
        assertTrue(MessageNames.isUnnamed(6, after));
        ByteBuf e = message('E', "");
        assertTrue(MessageNames.isUnnamed(6, MessageNames.executePortalEnd(e, 1, e.writerIndex())));
        b.release();
        e.release();
    }

    @Test
    void aNameWithoutItsNulIsAProtocolError() {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('P').writeInt(4 + 3).writeBytes("abc".getBytes(StandardCharsets.US_ASCII));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> MessageNames.parseStatementEnd(b, 0, b.writerIndex()));
        assertTrue(e.getMessage().contains("Parse statement name"), e.getMessage());
        b.release();
    }

    /**
     * Found by fuzzing: a Describe or Close of length 4 has no kind byte; reading it read the next message's type, or
     * past the buffer (an IndexOutOfBoundsException that escaped the session instead of an ErrorResponse).
     */
    @Test
    void aDescribeOrCloseWithoutItsKindIsAProtocolError() {
        for (char type : new char[] {'D', 'C'}) {
            ByteBuf b = Unpooled.buffer().writeByte(type).writeInt(4); // the last message of its chunk
            ProtocolException e = assertThrows(ProtocolException.class,
                    () -> MessageNames.targetKind(b, 0, b.writerIndex()));
            assertTrue(e.getMessage().contains("kind"), e.getMessage());
            assertThrows(ProtocolException.class, () -> MessageNames.targetEnd(b, 0, b.writerIndex()));
            b.release();
        }
    }

    /** A name that would start after the message's end is missing, not searched for backwards (indexOf's from > to). */
    @Test
    void aNameStartingPastTheEndIsAProtocolError() {
        ByteBuf b = Unpooled.buffer().writeByte('D').writeInt(4).writeByte(0); // a NUL right after the message
        assertThrows(ProtocolException.class, () -> MessageNames.targetEnd(b, 0, 5));
        assertThrows(ProtocolException.class, () -> Wire.endOfCString(b, 6, 5, "name"));
        b.release();
    }
}

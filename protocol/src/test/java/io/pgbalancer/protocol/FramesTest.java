// purpose: Frames.walk visits each complete message in order and stops when told; BackendMessage maps every type byte
package io.pgbalancer.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FramesTest {
    private static ByteBuf chunk() {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('1').writeInt(4);
        b.writeByte('C').writeInt(4 + 9).writeBytes("SELECT 1\0".getBytes());
        b.writeByte('Z').writeInt(5).writeByte('I');
        return b;
    }

    @Test
    void visitsEveryMessageWithItsOffsetAndLength() {
        ByteBuf b = chunk();
        b.readerIndex(0);
        List<String> seen = new ArrayList<>();
        assertTrue(Frames.walk(b, (type, buf, at, length) -> seen.add((char) type + "@" + at + "+" + length)));
        assertEquals(List.of("1@0+5", "C@5+14", "Z@19+6"), seen);
        assertEquals(0, b.readerIndex(), "indexes are not moved");
        b.release();
    }

    @Test
    void stopsWhenTheVisitorSaysSo() {
        ByteBuf b = chunk();
        List<Character> seen = new ArrayList<>();
        assertFalse(Frames.walk(b, (type, buf, at, length) -> {
            seen.add((char) type);
            return type != 'C';
        }));
        assertEquals(List.of('1', 'C'), seen);
        b.release();
    }

    @Test
    void everyDefinedTypeByteMapsBackToItself() {
        for (BackendMessage m : BackendMessage.values()) {
            if (m != BackendMessage.UNKNOWN) {
                assertEquals(m, BackendMessage.of(m.code));
            }
        }
        assertEquals(BackendMessage.UNKNOWN, BackendMessage.of((byte) 'x'));
        assertEquals(BackendMessage.UNKNOWN, BackendMessage.of((byte) 0xFF));
        assertTrue(BackendMessage.ROW_DESCRIPTION.isPreamble());
        assertFalse(BackendMessage.DATA_ROW.isPreamble());
        assertTrue(BackendMessage.PARAMETER_STATUS.isAsynchronous());
        assertFalse(BackendMessage.READY_FOR_QUERY.isAsynchronous());
    }
}

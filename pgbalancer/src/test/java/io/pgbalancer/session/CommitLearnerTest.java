// A COPY (which may leave the server waiting for the client's data) is never followed by a query of pgbalancer's.
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CommitLearnerTest {
    private static boolean copy(String sql) {
        ByteBuf b = Unpooled.copiedBuffer("xx" + sql + "\0", StandardCharsets.UTF_8);
        return CommitLearner.startsWithCopy(b, 2, b.writerIndex() - 1);
    }

    @Test
    void findsCopyAfterSpacesAndComments() {
        assertTrue(copy("COPY t FROM STDIN"));
        assertTrue(copy("copy t from stdin"));
        assertTrue(copy("  \n\tCoPy(t)"));
        assertTrue(copy("-- load\nCOPY t FROM STDIN"));
        assertTrue(copy("/* a /* nested */ comment */ copy t from stdin"));
        assertTrue(copy("COPY"));
    }

    @Test
    void anythingElseIsNotCopy() {
        assertFalse(copy("INSERT INTO copy VALUES (1)"));
        assertFalse(copy("copying"));
        assertFalse(copy("copy_t"));
        assertFalse(copy("-- COPY\nSELECT 1"));
        assertFalse(copy("/* COPY */ SELECT 1"));
        assertFalse(copy("cop"));
        assertFalse(copy(""));
    }

    private static boolean mentions(String sql, String word) {
        ByteBuf b = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
        return CommitLearner.mentions(b, 0, b.writerIndex(), word);
    }

    @Test
    void findsWordsIgnoringCase() {
        assertTrue(mentions("COMMIT AND CHAIN", "chain"));
        assertTrue(mentions("set local Synchronous_Commit = off", "synchronous_commit"));
        assertTrue(mentions("select set_config('synchronous_commit', 'off', true)", "synchronous_commit"));
        assertFalse(mentions("COMMIT", "chain"));
        assertFalse(mentions("SET synchronous_standby_names = ''", "synchronous_commit"));
        assertFalse(mentions("cha", "chain"));
    }
}

// purpose: unit tests of ProxyStatements: byte-exact answers to simple and extended cycles, errors, reuse and hand-over
package io.pgbalancer.causal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgbalancer.session.TestWire;
import io.pgbalancer.session.TestWire.Msgs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyStatementsTest {
    private final ProxySettings settings = new ProxySettings();
    private long commitLsn = 0x16B3740L;
    private final ProxyStatements proxy = new ProxyStatements(settings, () -> commitLsn);

    /** The server messages PostgreSQL would send, written out independently of ServerMessages. */
    static final class Expected {
        private final Msgs m = new Msgs();

        Expected parseComplete() {
            m.msg('1');
            return this;
        }

        Expected bindComplete() {
            m.msg('2');
            return this;
        }

        Expected closeComplete() {
            m.msg('3');
            return this;
        }

        Expected noData() {
            m.msg('n');
            return this;
        }

        Expected suspended() {
            m.msg('s');
            return this;
        }

        Expected noParameters() {
            m.msg('t', (short) 0);
            return this;
        }

        Expected row(String column, int format) {
            m.msg('T', (short) 1, column, 0, (short) 0, 25, (short) -1, -1, (short) format);
            return this;
        }

        Expected data(String value) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            Object[] parts = new Object[2 + bytes.length];
            parts[0] = (short) 1;
            parts[1] = bytes.length;
            for (int i = 0; i < bytes.length; i++) {
                parts[2 + i] = (char) bytes[i];
            }
            m.msg('D', parts);
            return this;
        }

        Expected complete(String tag) {
            m.msg('C', tag);
            return this;
        }

        Expected error(String sqlState, String message) {
            m.msg('E', 'S', "ERROR", 'V', "ERROR", 'C', sqlState, 'M', message, (char) 0);
            return this;
        }

        Expected errorWithHint(String sqlState, String message, String hint) {
            m.msg('E', 'S', "ERROR", 'V', "ERROR", 'C', sqlState, 'M', message, 'H', hint, (char) 0);
            return this;
        }

        Expected ready() {
            m.msg('Z', 'I');
            return this;
        }

        byte[] bytes() {
            return ByteBufUtil.getBytes(m.buf);
        }
    }

    static Expected expect() {
        return new Expected();
    }

    /** Asserts the first message is claimed, answers, and returns what was written. */
    private byte[] answer(ByteBuf in) {
        assertTrue(proxy.claims(in, in.readerIndex()), "claimed");
        List<ByteBuf> out = new ArrayList<>();
        proxy.answer(in, Unpooled.buffer().alloc(), out, 'I');
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b : out) {
            all.writeBytes(b);
            b.release();
        }
        return ByteBufUtil.getBytes(all);
    }

    private byte[] answer(Msgs msgs) {
        byte[] got = answer(msgs.buf);
        assertFalse(msgs.buf.isReadable(), "everything consumed");
        return got;
    }

    private void assertAnswer(Expected expected, Msgs in) {
        byte[] got = answer(in);
        assertEquals(TestWire.types(expected.bytes()), TestWire.types(got));
        assertArrayEquals(expected.bytes(), got);
    }

    // ------------------------------------------------------------------------------------------------ simple Query

    @Test
    void simpleShow() {
        assertAnswer(expect().row("pgbalancer.commit_lsn", 0).data("0/16B3740").complete("SHOW").ready(),
                new Msgs().query("SHOW pgbalancer.commit_lsn"));
        commitLsn = 0x16B374D848L;
        assertAnswer(expect().row("pgbalancer.commit_lsn", 0).data("16/B374D848").complete("SHOW").ready(),
                new Msgs().query("show PGBALANCER.commit_lsn;"));
    }

    @Test
    void simpleSetResetAndShow() {
        assertAnswer(expect().complete("SET").ready(), new Msgs().query("SET pgbalancer.min_lsn = '0/16B3740'"));
        assertEquals(0x16B3740L, settings.minLsn());
        assertAnswer(expect().row("pgbalancer.min_lsn", 0).data("0/16B3740").complete("SHOW").ready(),
                new Msgs().query("SHOW pgbalancer.min_lsn"));
        assertAnswer(expect().complete("RESET").ready(), new Msgs().query("RESET pgbalancer.min_lsn"));
        assertEquals(Lsn.NONE, settings.minLsn());
        assertAnswer(expect().complete("SET").ready(), new Msgs().query("SET pgbalancer.max_staleness TO 500"));
        assertAnswer(expect().row("pgbalancer.max_staleness", 0).data("500ms").complete("SHOW").ready(),
                new Msgs().query("SHOW pgbalancer.max_staleness"));
        assertAnswer(expect().complete("SET").ready(), new Msgs().query("SET pgbalancer.max_staleness TO DEFAULT"));
        assertEquals(ProxySettings.UNBOUNDED, settings.maxStalenessNanos());
    }

    @Test
    void simpleErrorsLeaveTheSessionUsable() {
        assertAnswer(expect().errorWithHint("22023", "invalid value for parameter \"pgbalancer.min_lsn\": \"abc\"",
                        "Expected a WAL position: two hexadecimal numbers separated by a slash, such as 0/16B3740, as"
                                + " pg_current_wal_lsn() returns.").ready(),
                new Msgs().query("SET pgbalancer.min_lsn = 'abc'"));
        assertAnswer(expect().error("55P02", "parameter \"pgbalancer.commit_lsn\" cannot be changed").ready(),
                new Msgs().query("SET pgbalancer.commit_lsn = '0/1'"));
        assertAnswer(expect().error("42704", "unrecognized configuration parameter \"pgbalancer.nosuch\"").ready(),
                new Msgs().query("SHOW pgbalancer.nosuch"));
        assertAnswer(expect().error("0A000", "pgbalancer.* settings must be set in a statement of their own").ready(),
                new Msgs().query("SET pgbalancer.min_lsn = '0/1'; SELECT 1"));
        assertFalse(proxy.inCycle());
        assertAnswer(expect().complete("SET").ready(), new Msgs().query("SET pgbalancer.min_lsn = '0/1'"));
        assertEquals(1L, settings.minLsn());
    }

    @Test
    void ordinaryTextsAreNotClaimed() {
        for (String sql : new String[] {"SELECT 1", "SHOW ALL", "RESET ALL", "DISCARD ALL", "SET search_path = x",
            "SELECT 'pgbalancer.min_lsn'", "SHOW pgbalancer"}) {
            Msgs q = new Msgs().query(sql);
            assertFalse(proxy.claims(q.buf, 0), sql);
            Msgs p = new Msgs().parse("", sql);
            assertFalse(proxy.claims(p.buf, 0), sql);
        }
        Msgs other = new Msgs().bind("S_1").describePortal("").execute().closeStatement("S_1").sync().flush();
        for (int i = 0; i < 6; i++) {
            assertFalse(proxy.claims(other.buf, other.offset(i)), "message " + i);
        }
        assertFalse(proxy.inCycle());
    }

    // ------------------------------------------------------------------------------------------------ extended

    @Test
    void unnamedSetAsPgjdbcSendsIt() {
        Msgs in = new Msgs().parse("", "SET pgbalancer.max_staleness = '2s'").bind("").describePortal("").execute()
                .sync();
        assertAnswer(expect().parseComplete().bindComplete().noData().complete("SET").ready(), in);
        assertEquals(2_000_000_000L, settings.maxStalenessNanos());
        assertFalse(proxy.inCycle());
    }

    @Test
    void showWithStatementAndPortalDescribe() {
        settings.minLsn(0x2A);
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.min_lsn").describeStatement("").bind("").describePortal("")
                .execute().sync();
        assertAnswer(expect().parseComplete().noParameters().row("pgbalancer.min_lsn", 0).bindComplete()
                .row("pgbalancer.min_lsn", 0).data("0/2A").complete("SHOW").ready(), in);
    }

    @Test
    void binaryResultFormatIsHonouredInThePortalDescription() {
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.commit_lsn")
                .msg('B', "", "", (short) 0, (short) 0, (short) 1, (short) 1).describePortal("").execute().sync();
        assertAnswer(expect().parseComplete().bindComplete().row("pgbalancer.commit_lsn", 1).data("0/16B3740")
                .complete("SHOW").ready(), in);
    }

    @Test
    void asyncpgPreparesWithFlushThenExecutesInALaterChunk() {
        String name = "__asyncpg_stmt_1__";
        Msgs prepare = new Msgs().parse(name, "SHOW pgbalancer.commit_lsn").describeStatement(name).flush();
        assertAnswer(expect().parseComplete().noParameters().row("pgbalancer.commit_lsn", 0), prepare);
        assertTrue(proxy.inCycle(), "the cycle waits for its Sync");
        Msgs run = new Msgs().msg('B', "", name, (short) 0, (short) 0, (short) 1, (short) 1).msg('E', "", 0).sync();
        assertAnswer(expect().bindComplete().data("0/16B3740").complete("SHOW").ready(), run);
        assertFalse(proxy.inCycle());
        commitLsn = 0x100000000L;
        Msgs again = new Msgs().bind(name).execute().sync();
        assertAnswer(expect().bindComplete().data("1/0").complete("SHOW").ready(), again);
    }

    @Test
    void namedStatementIsReusedUntilClosed() {
        Msgs first = new Msgs().parse("S_1", "SET pgbalancer.min_lsn = '0/10'").bind("S_1").describePortal("")
                .execute().sync();
        assertAnswer(expect().parseComplete().bindComplete().noData().complete("SET").ready(), first);
        settings.minLsn(0);
        Msgs reuse = new Msgs().bind("S_1").execute().sync();
        assertAnswer(expect().bindComplete().complete("SET").ready(), reuse);
        assertEquals(0x10L, settings.minLsn());
        assertAnswer(expect().error("42P05", "prepared statement \"S_1\" already exists").ready(),
                new Msgs().parse("S_1", "SET pgbalancer.min_lsn = '0/10'").sync());
        assertAnswer(expect().closeComplete().ready(), new Msgs().closeStatement("S_1").sync());
        Msgs after = new Msgs().bind("S_1").execute().sync();
        assertFalse(proxy.claims(after.buf, 0), "closed: the server says it does not exist");
    }

    @Test
    void parseErrorDiscardsUntilSync() {
        Msgs in = new Msgs().parse("", "SET pgbalancer.min_lsn").bind("").describePortal("").execute().sync();
        assertAnswer(expect().error("42601", "syntax error at end of input").ready(), in);
        assertFalse(proxy.inCycle());
        assertAnswer(expect().complete("SET").ready(), new Msgs().query("SET pgbalancer.min_lsn = '0/3'"));
        assertEquals(3L, settings.minLsn());
    }

    @Test
    void executeErrorDiscardsTheRestOfTheCycleEvenOrdinaryMessages() {
        Msgs in = new Msgs().parse("", "SET pgbalancer.min_lsn = 'x/y'").bind("").execute()
                .parse("", "SELECT 1").bind("").execute().query("SHOW pgbalancer.min_lsn").sync();
        assertAnswer(expect().parseComplete().bindComplete()
                .errorWithHint("22023", "invalid value for parameter \"pgbalancer.min_lsn\": \"x/y\"",
                        "Expected a WAL position: two hexadecimal numbers separated by a slash, such as 0/16B3740, as"
                                + " pg_current_wal_lsn() returns.")
                .ready(), in);
        assertFalse(proxy.inCycle());
    }

    @Test
    void errorThenSyncInALaterChunk() {
        Msgs first = new Msgs().parse("", "SHOW pgbalancer.nosuch").flush();
        assertAnswer(expect().error("42704", "unrecognized configuration parameter \"pgbalancer.nosuch\""), first);
        assertTrue(proxy.inCycle());
        Msgs rest = new Msgs().bind("").execute().msg('X');
        assertAnswer(expect(), rest);
        assertTrue(proxy.inCycle(), "still discarding");
        assertAnswer(expect().ready(), new Msgs().sync());
        assertFalse(proxy.inCycle());
    }

    @Test
    void virtualCycleFollowedByAnOrdinaryMessageLeavesItUnconsumed() {
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.commit_lsn").bind("").execute().sync().query("SELECT 1");
        byte[] got = answer(in.buf);
        assertArrayEquals(expect().parseComplete().bindComplete().data("0/16B3740").complete("SHOW").ready().bytes(),
                got);
        assertEquals(in.offset(4), in.buf.readerIndex(), "stops at the ordinary Query");
        assertFalse(proxy.claims(in.buf, in.buf.readerIndex()));
    }

    @Test
    void anOrdinaryMessageInsideTheCycleHandsTheRestToTheServer() {
        Msgs in = new Msgs().parse("", "SET pgbalancer.min_lsn = '0/5'").bind("").execute()
                .parse("", "SELECT 1").bind("").execute().sync();
        byte[] got = answer(in.buf);
        assertArrayEquals(expect().parseComplete().bindComplete().complete("SET").bytes(), got);
        assertEquals(in.offset(3), in.buf.readerIndex());
        assertFalse(proxy.inCycle(), "the server owns the rest of the cycle and its Sync");
        assertFalse(proxy.claims(in.buf, in.offset(6)), "the Sync goes to the server");
        assertFalse(proxy.claims(in.buf, in.offset(5)), "the portal was replaced on the server");
        assertEquals(5L, settings.minLsn());
    }

    @Test
    void simpleQueryAfterAnExtendedVirtualCycleInOneChunk() {
        Msgs in = new Msgs().parse("S_2", "SHOW pgbalancer.max_staleness").bind("S_2").execute().sync()
                .query("SET pgbalancer.max_staleness = '1min'").query("SHOW pgbalancer.max_staleness");
        assertAnswer(expect().parseComplete().bindComplete().data("-1").complete("SHOW").ready()
                .complete("SET").ready()
                .row("pgbalancer.max_staleness", 0).data("1min").complete("SHOW").ready(), in);
    }

    @Test
    void maxRowsSuspendsThePortal() {
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.commit_lsn").bind("").msg('E', "", 1).msg('E', "", 1)
                .msg('E', "", 0).sync();
        assertAnswer(expect().parseComplete().bindComplete().data("0/16B3740").suspended().complete("SHOW")
                .complete("SHOW").ready(), in);
    }

    @Test
    void aSetPortalRunsOnce() {
        Msgs in = new Msgs().parse("", "RESET pgbalancer.min_lsn").bind("p1", "").msg('E', "p1", 0).msg('E', "p1", 0)
                .sync();
        assertAnswer(expect().parseComplete().bindComplete().complete("RESET")
                .error("55000", "portal \"p1\" cannot be run").ready(), in);
    }

    @Test
    void namedPortalsAndClose() {
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.min_lsn").bind("c1", "").describePortal("c1")
                .msg('C', 'P', "c1").bind("c1", "").msg('E', "c1", 0).bind("c1", "").sync();
        assertAnswer(expect().parseComplete().bindComplete().row("pgbalancer.min_lsn", 0).closeComplete()
                .bindComplete().data("0/0").complete("SHOW")
                .error("42P03", "cursor \"c1\" already exists").ready(), in);
        Msgs later = new Msgs().msg('E', "c1", 0).sync();
        assertFalse(proxy.claims(later.buf, 0), "portals end with their Sync");
    }

    @Test
    void bindWithParametersIsAProtocolError() {
        Msgs in = new Msgs().parse("", "SHOW pgbalancer.min_lsn")
                .msg('B', "", "", (short) 0, (short) 1, 1, 'x', (short) 0).execute().sync();
        assertAnswer(expect().parseComplete()
                .error("08P01", "bind message supplies 1 parameters, but prepared statement \"\" requires 0").ready(), in);
    }

    /**
     * Found by fuzzing: a parameter length larger than what is left of the Bind (here the largest int) overflowed the
     * read position, and an IndexOutOfBoundsException escaped instead of PostgreSQL's error.
     */
    @Test
    void aBindParameterLongerThanTheMessageIsAProtocolError() {
        for (int length : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 3, 100}) {
            Msgs in = new Msgs().parse("", "SHOW pgbalancer.min_lsn")
                    .msg('B', "", "", (short) 0, (short) 2, length, 'x', (short) 0).execute().sync();
            assertAnswer(expect().parseComplete().error("08P01", "insufficient data left in message").ready(), in);
        }
    }

    @Test
    void aQueryDropsTheUnnamedVirtualStatement() {
        assertAnswer(expect().parseComplete().ready(), new Msgs().parse("", "SHOW pgbalancer.min_lsn").sync());
        Msgs bind = new Msgs().bind("").execute().sync();
        assertTrue(proxy.claims(bind.buf, 0));
        Msgs query = new Msgs().query("SELECT 1");
        assertFalse(proxy.claims(query.buf, 0));
        assertFalse(proxy.claims(bind.buf, 0), "the server's Query replaced the unnamed statement");
    }

    @Test
    void anOrdinaryParseUnderAVirtualNameForgetsIt() {
        assertAnswer(expect().parseComplete().ready(), new Msgs().parse("S_9", "SHOW pgbalancer.min_lsn").sync());
        assertFalse(proxy.claims(new Msgs().parse("S_9", "SELECT 1").buf, 0));
        assertFalse(proxy.claims(new Msgs().bind("S_9").buf, 0));
    }
}

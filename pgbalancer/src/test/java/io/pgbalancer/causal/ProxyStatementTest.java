// purpose: unit tests of ProxyStatement: which texts are virtual, every accepted spelling, syntax errors, and running them
package io.pgbalancer.causal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.causal.ProxyStatement.Kind;
import org.junit.jupiter.api.Test;

class ProxyStatementTest {
    private final ProxySettings settings = new ProxySettings();

    private String run(String sql) {
        ProxyStatement st = ProxyStatement.parse(sql);
        assertNotNull(st, sql);
        return st.run(settings, () -> 0x16B3740L);
    }

    private ProxyError runError(String sql) {
        ProxyStatement st = ProxyStatement.parse(sql);
        assertNotNull(st, sql);
        return assertThrows(ProxyError.class, () -> st.run(settings, () -> 0));
    }

    private static void assertParsed(Kind kind, String name, String value, String sql) {
        assertEquals(new ProxyStatement(kind, name, value, null), ProxyStatement.parse(sql), sql);
    }

    @Test
    void setSpellings() {
        String name = "pgbalancer.min_lsn";
        for (String sql : new String[] {
            "SET pgbalancer.min_lsn = '0/16B3740'",
            "set PGBALANCER.MIN_LSN to '0/16B3740';",
            "SET SESSION pgbalancer.min_lsn TO '0/16B3740'",
            "  /* leading */ -- comment\n SET pgbalancer.min_lsn=$$0/16B3740$$ ;",
            "SET \"pgbalancer\".\"min_lsn\" = E'0/16B3740'",
            "SET pgbalancer . min_lsn TO $tag$0/16B3740$tag$",
            ";; SET pgbalancer.min_lsn = '0/16B3740';;",
        }) {
            assertParsed(Kind.SET, name, "0/16B3740", sql);
        }
        assertParsed(Kind.SET, "pgbalancer.max_staleness", "500", "SET pgbalancer.max_staleness = 500");
        assertParsed(Kind.SET, "pgbalancer.max_staleness", "-1", "SET pgbalancer.max_staleness TO -1");
        assertParsed(Kind.SET, "pgbalancer.max_staleness", "1.5", "SET pgbalancer.max_staleness=+1.5");
        assertParsed(Kind.SET, "pgbalancer.max_staleness", "it''s", "SET pgbalancer.max_staleness = $$it''s$$");
        assertParsed(Kind.SET, "pgbalancer.max_staleness", "it's", "SET pgbalancer.max_staleness = 'it''s'");
        assertParsed(Kind.SET, "pgbalancer.max_staleness", "word", "SET pgbalancer.max_staleness = Word");
        assertParsed(Kind.SET, name, null, "SET pgbalancer.min_lsn TO DEFAULT");
        assertParsed(Kind.SET, name, null, "SET SESSION pgbalancer.min_lsn = default;");
        assertParsed(Kind.SET, "pgbalancer.nosuch", "1", "SET pgbalancer.nosuch = 1");
    }

    @Test
    void showAndResetSpellings() {
        assertParsed(Kind.SHOW, "pgbalancer.commit_lsn", null, "SHOW pgbalancer.commit_lsn");
        assertParsed(Kind.SHOW, "pgbalancer.commit_lsn", null, "show PgBalancer.Commit_LSN ;");
        assertParsed(Kind.RESET, "pgbalancer.min_lsn", null, "RESET pgbalancer.min_lsn");
        assertParsed(Kind.RESET, "pgbalancer.max_staleness", null, "/* x */ reset \"pgbalancer\".max_staleness;");
    }

    @Test
    void otherTextsAreNotVirtual() {
        for (String sql : new String[] {
            "SHOW ALL", "RESET ALL", "DISCARD ALL", "SELECT 1", "SET search_path TO pgbalancer",
            "SELECT 'SET pgbalancer.min_lsn = 1'", "-- SET pgbalancer.min_lsn = '0/1'\nSELECT 1",
            "/* SHOW pgbalancer.commit_lsn */ SELECT 1", "SHOW pgbalancer", "SET pgbalancer = 1",
            "SET myapp.pgbalancer = 1", "SHOW pgbalancer_x.y", "SET LOCAL search_path = x", "",
        }) {
            assertNull(ProxyStatement.parse(sql), sql);
        }
    }

    private static void assertInvalid(String sqlState, String message, String sql) {
        ProxyStatement st = ProxyStatement.parse(sql);
        assertNotNull(st, sql);
        assertEquals(Kind.INVALID, st.kind(), sql);
        assertEquals(sqlState, st.error().sqlState(), sql);
        assertEquals(message, st.error().getMessage(), sql);
    }

    @Test
    void syntaxErrors() {
        assertInvalid("42601", "syntax error at end of input", "SET pgbalancer.min_lsn");
        assertInvalid("42601", "syntax error at end of input", "SET pgbalancer.min_lsn = ;");
        assertInvalid("42601", "syntax error at or near \"extra\"", "SHOW pgbalancer.min_lsn extra");
        assertInvalid("42601", "syntax error at or near \"FROM\"", "SET pgbalancer.min_lsn FROM CURRENT");
        assertInvalid("42601", "syntax error at or near \"'0/2'\"", "SET pgbalancer.min_lsn = '0/1' '0/2'");
        assertInvalid("42601", "syntax error at or near \"B'101'\"", "SET pgbalancer.min_lsn = B'101'");
        assertInvalid("42601", "unterminated quoted string or comment at or near \"'0/1\"",
                "SET pgbalancer.min_lsn = '0/1");
        assertInvalid("22023", "SET pgbalancer.min_lsn takes only one argument",
                "SET pgbalancer.min_lsn = '0/1', '0/2'");
    }

    @Test
    void onlyAloneAndNotLocal() {
        String alone = "pgbalancer.* settings must be set in a statement of their own";
        assertInvalid("0A000", alone, "SELECT 1; SET pgbalancer.min_lsn = '0/1'");
        assertInvalid("0A000", alone, "SHOW pgbalancer.commit_lsn; SELECT 1");
        assertInvalid("0A000", alone, "SET pgbalancer.min_lsn = '0/1'; SET pgbalancer.max_staleness = 1");
        assertInvalid("0A000", "SET LOCAL is not supported for pgbalancer.* settings",
                "SET LOCAL pgbalancer.min_lsn = '0/1'");
    }

    @Test
    void minLsn() {
        assertEquals("0/0", run("SHOW pgbalancer.min_lsn"));
        assertNull(run("SET pgbalancer.min_lsn = '16/B374D848'"));
        assertEquals(0x16B374D848L, settings.minLsn());
        assertEquals("16/B374D848", run("SHOW pgbalancer.min_lsn"));
        run("RESET pgbalancer.min_lsn");
        assertEquals(Lsn.NONE, settings.minLsn());
        run("SET pgbalancer.min_lsn TO ' 0/1 '");
        assertEquals(1L, settings.minLsn());
        run("SET pgbalancer.min_lsn TO DEFAULT");
        assertEquals(Lsn.NONE, settings.minLsn());
    }

    @Test
    void badMinLsn() {
        settings.minLsn(7);
        ProxyError e = runError("SET pgbalancer.min_lsn = 'abc'");
        assertEquals("22023", e.sqlState());
        assertEquals("invalid value for parameter \"pgbalancer.min_lsn\": \"abc\"", e.getMessage());
        assertTrue(e.hint().contains("0/16B3740"), e.hint());
        assertEquals(7, settings.minLsn(), "unchanged");
        assertEquals("22023", runError("SET pgbalancer.min_lsn = 5").sqlState());
    }

    @Test
    void maxStaleness() {
        assertEquals("-1", run("SHOW pgbalancer.max_staleness"), "unbounded by default");
        run("SET pgbalancer.max_staleness = '500ms'");
        assertEquals(500_000_000L, settings.maxStalenessNanos());
        assertEquals("500ms", run("SHOW pgbalancer.max_staleness"));
        run("SET pgbalancer.max_staleness TO 2000");
        assertEquals("2s", run("SHOW pgbalancer.max_staleness"), "a bare number is milliseconds");
        run("SET pgbalancer.max_staleness = 0");
        assertEquals(0L, settings.maxStalenessNanos());
        assertEquals("0", run("SHOW pgbalancer.max_staleness"));
        run("SET pgbalancer.max_staleness = -1");
        assertEquals(ProxySettings.UNBOUNDED, settings.maxStalenessNanos());
        run("SET pgbalancer.max_staleness = '1min'");
        run("RESET pgbalancer.max_staleness");
        assertEquals(ProxySettings.UNBOUNDED, settings.maxStalenessNanos());
        run("SET pgbalancer.max_staleness = '1h'");
        run("SET pgbalancer.max_staleness TO DEFAULT");
        assertEquals(ProxySettings.UNBOUNDED, settings.maxStalenessNanos());
    }

    @Test
    void badMaxStaleness() {
        for (String value : new String[] {"'abc'", "'5 sec'", "-2", "'500MS'"}) {
            ProxyError e = runError("SET pgbalancer.max_staleness = " + value);
            assertEquals("22023", e.sqlState(), value);
            assertEquals("invalid value for parameter \"pgbalancer.max_staleness\": \"" + value.replace("'", "") + "\"",
                    e.getMessage());
            assertTrue(e.hint().startsWith("Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\","
                    + " and \"d\"."), e.hint());
        }
        assertEquals(ProxySettings.UNBOUNDED, settings.maxStalenessNanos());
    }

    @Test
    void commitLsnIsReadOnly() {
        assertEquals("0/16B3740", run("SHOW pgbalancer.commit_lsn"));
        for (String sql : new String[] {"SET pgbalancer.commit_lsn = '0/1'", "RESET pgbalancer.commit_lsn",
            "SET pgbalancer.commit_lsn TO DEFAULT"}) {
            ProxyError e = runError(sql);
            assertEquals("55P02", e.sqlState(), sql);
            assertEquals("parameter \"pgbalancer.commit_lsn\" cannot be changed", e.getMessage());
        }
    }

    @Test
    void unknownNames() {
        for (String sql : new String[] {"SHOW pgbalancer.nosuch", "SET pgbalancer.nosuch = 1",
            "RESET PGBALANCER.NoSuch", "SHOW pgbalancer.min_lsn.x"}) {
            ProxyError e = runError(sql);
            assertEquals("42704", e.sqlState(), sql);
            assertTrue(e.getMessage().startsWith("unrecognized configuration parameter \"pgbalancer."), e.getMessage());
        }
        assertEquals("unrecognized configuration parameter \"pgbalancer.nosuch\"",
                runError("RESET PGBALANCER.NoSuch").getMessage());
    }

    @Test
    void tags() {
        assertEquals("SHOW", ProxyStatement.parse("SHOW pgbalancer.min_lsn").tag());
        assertEquals("SET", ProxyStatement.parse("SET pgbalancer.min_lsn TO DEFAULT").tag());
        assertEquals("RESET", ProxyStatement.parse("RESET pgbalancer.min_lsn").tag());
    }
}

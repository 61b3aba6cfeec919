// purpose: SessionSettings reads startup parameters and options, tracks SET/RESET, and emits minimal, well-quoted sync SQL
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.sql.SessionSet;
import io.pgbalancer.sql.SessionSet.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionSettingsTest {

    /** Splits sync SQL into statements at top-level semicolons (not inside '...' or "..."). */
    static List<String> statements(String sql) {
        List<String> out = new ArrayList<>();
        if (sql == null) {
            return out;
        }
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (quote != 0) {
                cur.append(c);
                if (c == quote) {
                    if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                        cur.append(sql.charAt(++i));
                    } else {
                        quote = 0;
                    }
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                cur.append(c);
            } else if (c == ';') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        assertEquals(0, quote, "unterminated quote in " + sql);
        assertEquals("", cur.toString(), "every statement ends with ';': " + sql);
        return out;
    }

    static Set<String> statementSet(String sql) {
        List<String> list = statements(sql);
        Set<String> set = Set.copyOf(list);
        assertEquals(list.size(), set.size(), "duplicate statements in " + sql);
        return set;
    }

    static String setConfig(String name, String literalValue) {
        // values are passed as '...' for readability; the implementation writes E'...' literals
        return "SELECT pg_catalog.set_config(E'" + name + "', E" + literalValue + ", false)";
    }

    static SessionSet set(String name, String valueSql) {
        return new SessionSet(name, valueSql, Kind.SET);
    }

    static SessionSet reset(String name) {
        return new SessionSet(name, null, Kind.RESET);
    }

    static SessionSet resetAll() {
        return new SessionSet(null, null, Kind.RESET_ALL);
    }

    // ---- fromStartup ----

    @Test
    void fromStartupSkipsConnectionParametersAndLowerCasesNames() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "app");
        p.put("database", "shop");
        p.put("replication", "false");
        p.put("options", "");
        p.put("application_name", "psql");
        p.put("TimeZone", "UTC");
        p.put("DateStyle", "ISO, MDY");
        SessionSettings s = SessionSettings.fromStartup(p);
        assertEquals(3, s.size());
        assertEquals(Set.of(
                setConfig("application_name", "'psql'"),
                setConfig("timezone", "'UTC'"),
                setConfig("datestyle", "'ISO, MDY'")), statementSet(s.syncSql(SessionSettings.NONE)));
    }

    @Test
    void fromStartupWithOnlyUserAndDatabaseIsEmpty() {
        SessionSettings s = SessionSettings.fromStartup(Map.of("user", "app", "database", "shop"));
        assertEquals(0, s.size());
        assertNull(s.syncSql(SessionSettings.NONE));
        assertNull(SessionSettings.NONE.syncSql(s));
    }

    @Test
    void fromStartupParsesOptions() {
        SessionSettings s = SessionSettings.fromStartup(Map.of("user", "app",
                "options", "-c search_path=a\\ b --statement-timeout=5s -cWork_Mem=64MB"));
        assertEquals(3, s.size());
        assertEquals(Set.of(
                setConfig("search_path", "'a b'"),
                setConfig("statement_timeout", "'5s'"),
                setConfig("work_mem", "'64MB'")), statementSet(s.syncSql(SessionSettings.NONE)));
    }

    @Test
    void fromStartupRejectsBadOptions() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> SessionSettings.fromStartup(Map.of("user", "app", "options", "-B 100")));
        assertEquals("22023", e.sqlState());
    }

    @Test
    void valuesWithQuotesAreEscaped() {
        SessionSettings s = SessionSettings.fromStartup(Map.of("application_name", "it's \"mine\"; DROP TABLE x"));
        String sql = s.syncSql(SessionSettings.NONE);
        assertEquals(List.of(setConfig("application_name", "'it''s \"mine\"; DROP TABLE x'")), statements(sql));
        assertEquals("E'it''s'", SessionSettings.literal("it's"));
        assertEquals("E''''''", SessionSettings.literal("''"));
        assertEquals("E''", SessionSettings.literal(""));
    }

    @Test
    void namesWithQuotesAreEscapedInsideTheLiteral() {
        SessionSettings s = SessionSettings.fromStartup(Map.of("my'app.x", "1"));
        assertEquals(List.of(setConfig("my''app.x", "'1'")), statements(s.syncSql(SessionSettings.NONE)));
    }

    // ---- StartupOptions ----

    @Test
    void startupOptionsForms() {
        assertEquals(Map.of("a", "b", "c_d", "e"), StartupOptions.parse("-c a=b --c-d=e"));
        assertEquals(Map.of("a", "b"), StartupOptions.parse("  -ca=b  "));
        assertEquals(Map.of("search_path", "my schema,public"), StartupOptions.parse("-c search_path=my\\ schema,public"));
        assertEquals(Map.of("x", "a\\b"), StartupOptions.parse("-c x=a\\\\b"));
        assertEquals(Map.of("x", "=y"), StartupOptions.parse("-c x==y"));
        assertEquals(Map.of("x", ""), StartupOptions.parse("-c x="));
        assertEquals(Map.of("geqo", "off", "myapp.some_thing", "v-1"),
                StartupOptions.parse("--geqo=off\t-c MyApp.Some-Thing=v-1"));
        assertEquals(Map.of(), StartupOptions.parse(""));
        assertEquals(Map.of(), StartupOptions.parse("   "));
    }

    @Test
    void startupOptionsLaterWins() {
        assertEquals(Map.of("a", "2"), StartupOptions.parse("-c a=1 -c A=2"));
    }

    @Test
    void startupOptionsRejectGarbage() {
        for (String bad : new String[] {"foo", "-B 100", "-c", "-c a", "-c =b", "--=b", "--x", "-c a=b junk",
            "-x a=b", "c a=b"}) {
            ProtocolException e = assertThrows(ProtocolException.class, () -> StartupOptions.parse(bad), bad);
            assertEquals("22023", e.sqlState(), bad);
            assertNotNull(e.getMessage());
        }
    }

    // ---- apply ----

    @Test
    void applyNothingReturnsTheSameSnapshot() {
        SessionSettings s = SessionSettings.fromStartup(Map.of("application_name", "a"));
        assertSame(s, s.apply(List.of()));
    }

    @Test
    void setIsRecordedAsASetStatement() {
        SessionSettings s = SessionSettings.NONE.apply(List.of(set("search_path", "public, \"My Schema\""),
                set("timezone", "'UTC'")));
        assertEquals(2, s.size());
        assertEquals(Set.of("SET search_path TO public, \"My Schema\"", "SET timezone TO 'UTC'"),
                statementSet(s.syncSql(SessionSettings.NONE)));
        // the starting snapshot is unchanged (immutable)
        assertEquals(0, SessionSettings.NONE.size());
    }

    @Test
    void setOfAnOddNameQuotesIt() {
        SessionSettings s = SessionSettings.NONE.apply(List.of(set("my-app.x", "1"), set("a\"b", "2"),
                set("myapp.user_id", "3")));
        assertEquals(Set.of("SET \"my-app.x\" TO 1", "SET \"a\"\"b\" TO 2", "SET myapp.user_id TO 3"),
                statementSet(s.syncSql(SessionSettings.NONE)));
    }

    @Test
    void lastSetWins() {
        SessionSettings s = SessionSettings.NONE.apply(List.of(set("work_mem", "'1MB'"), set("work_mem", "'2MB'")));
        assertEquals(List.of("SET work_mem TO '2MB'"), statements(s.syncSql(SessionSettings.NONE)));
    }

    @Test
    void resetRestoresTheStartupValue() {
        SessionSettings startup = SessionSettings.fromStartup(Map.of("user", "u", "application_name", "psql"));
        SessionSettings changed = startup.apply(List.of(set("application_name", "'other'")));
        assertEquals(List.of("SET application_name TO 'other'"), statements(changed.syncSql(startup)));
        SessionSettings back = changed.apply(List.of(reset("application_name")));
        assertNull(back.syncSql(startup), "RESET went back to the startup value");
        assertEquals(List.of(setConfig("application_name", "'psql'")), statements(back.syncSql(changed)));
    }

    @Test
    void resetOfANonStartupSettingRemovesIt() {
        SessionSettings startup = SessionSettings.fromStartup(Map.of("application_name", "psql"));
        SessionSettings changed = startup.apply(List.of(set("work_mem", "'8MB'")));
        assertEquals(2, changed.size());
        SessionSettings back = changed.apply(List.of(reset("work_mem")));
        assertEquals(1, back.size());
        assertNull(back.syncSql(startup));
        assertEquals(List.of("RESET work_mem"), statements(back.syncSql(changed)));
    }

    @Test
    void resetAllRestoresEveryStartupValue() {
        SessionSettings startup = SessionSettings.fromStartup(Map.of("application_name", "psql", "timezone", "UTC"));
        SessionSettings changed = startup.apply(List.of(set("application_name", "'x'"), set("work_mem", "'8MB'"),
                reset("timezone")));
        SessionSettings back = changed.apply(List.of(resetAll()));
        assertEquals(2, back.size());
        assertNull(back.syncSql(startup));
        assertNull(startup.syncSql(back));
    }

    @Test
    void resetAllThenSetInOneBatch() {
        SessionSettings startup = SessionSettings.fromStartup(Map.of("application_name", "psql"));
        SessionSettings s = startup.apply(List.of(set("work_mem", "'8MB'"), resetAll(), set("search_path", "a")));
        assertEquals(Set.of(setConfig("application_name", "'psql'"), "SET search_path TO a"),
                statementSet(s.syncSql(SessionSettings.NONE)));
    }

    // ---- syncSql ----

    @Test
    void syncSqlIsNullWhenEqual() {
        SessionSettings a = SessionSettings.fromStartup(Map.of("application_name", "psql", "TimeZone", "UTC"));
        SessionSettings b = SessionSettings.fromStartup(Map.of("timezone", "UTC", "application_name", "psql"));
        assertNull(a.syncSql(a));
        assertNull(a.syncSql(b), "equal contents, different instances");
        assertNull(SessionSettings.NONE.syncSql(SessionSettings.NONE));
        SessionSettings c = a.apply(List.of(set("x.y", "1")));
        SessionSettings d = b.apply(List.of(set("x.y", "1")));
        assertNull(c.syncSql(d));
    }

    @Test
    void syncSqlResetsNamesOnlyOnTheBackend() {
        SessionSettings backend = SessionSettings.fromStartup(Map.of("application_name", "other"))
                .apply(List.of(set("work_mem", "'8MB'"), set("my-app.x", "1")));
        SessionSettings client = SessionSettings.fromStartup(Map.of("application_name", "mine"));
        String sql = client.syncSql(backend);
        List<String> stmts = statements(sql);
        assertEquals(Set.of("RESET work_mem", "RESET \"my-app.x\"", setConfig("application_name", "'mine'")),
                Set.copyOf(stmts));
        // RESETs first, so a reset can never undo a value set by the same sync
        assertTrue(stmts.indexOf(setConfig("application_name", "'mine'")) == stmts.size() - 1, sql);
    }

    @Test
    void syncSqlOnlyTouchesDifferingSettings() {
        SessionSettings backend = SessionSettings.fromStartup(Map.of("application_name", "a", "timezone", "UTC",
                "datestyle", "ISO"));
        SessionSettings client = SessionSettings.fromStartup(Map.of("application_name", "a", "timezone", "UTC",
                "datestyle", "German"));
        assertEquals(List.of(setConfig("datestyle", "'German'")), statements(client.syncSql(backend)));
    }

    @Test
    void syncSqlFromAnEmptyBackendSetsEverything() {
        SessionSettings client = SessionSettings.fromStartup(Map.of("application_name", "a"))
                .apply(List.of(set("search_path", "'$user', public")));
        assertEquals(Set.of(setConfig("application_name", "'a'"), "SET search_path TO '$user', public"),
                statementSet(client.syncSql(SessionSettings.NONE)));
        assertEquals(Set.of("RESET application_name", "RESET search_path"),
                statementSet(SessionSettings.NONE.syncSql(client)));
    }

    @Test
    void syncSqlWithManySettingsHasOneStatementEach() {
        Map<String, String> p = new LinkedHashMap<>();
        for (int i = 0; i < 50; i++) {
            p.put("app.setting_" + i, "v'" + i + ";");
        }
        SessionSettings s = SessionSettings.fromStartup(p);
        Set<String> stmts = statementSet(s.syncSql(SessionSettings.NONE));
        assertEquals(50, stmts.size());
        assertTrue(stmts.contains(setConfig("app.setting_7", "'v''7;'")), stmts.toString());
    }

    @Test
    void backslashesAreDoubledInsideTheLiteral() {
        SessionSettings client = SessionSettings.fromStartup(java.util.Map.of("application_name", "a\\'b"));
        assertEquals("SELECT pg_catalog.set_config(E'application_name', E'a\\\\''b', false);",
                client.syncSql(SessionSettings.NONE));
    }
}

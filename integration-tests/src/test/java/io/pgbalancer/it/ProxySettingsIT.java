// purpose: pgjdbc sets and reads pgbalancer.* settings through pgbalancer, which answers them itself, never the server
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Transaction pooling on the primary alone: every statement here runs between transactions. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxySettingsIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.start(2);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static String show(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("SHOW " + name)) {
            assertTrue(rs.next());
            String value = rs.getString(1);
            assertEquals(name.toLowerCase(), rs.getMetaData().getColumnName(1));
            assertTrue(!rs.next(), "one row");
            return value;
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"extended", "simple"})
    void setShowReset(String mode) throws Exception {
        try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
            assertEquals("0/0", show(st, "pgbalancer.commit_lsn"));
            assertEquals("0/0", show(st, "pgbalancer.min_lsn"));
            st.execute("SET pgbalancer.min_lsn = '0/16B3740'");
            assertEquals("0/16B3740", show(st, "pgbalancer.min_lsn"));
            st.execute("SET SESSION pgbalancer.min_lsn TO '16/B374D848'");
            assertEquals("16/B374D848", show(st, "PGBALANCER.MIN_LSN"));
            st.execute("RESET pgbalancer.min_lsn");
            assertEquals("0/0", show(st, "pgbalancer.min_lsn"));
            assertEquals("-1", show(st, "pgbalancer.max_staleness"));
            st.execute("SET pgbalancer.max_staleness = 500");
            assertEquals("500ms", show(st, "pgbalancer.max_staleness"));
            st.execute("SET pgbalancer.max_staleness TO '2s'");
            assertEquals("2s", show(st, "pgbalancer.max_staleness"));
            st.execute("SET pgbalancer.max_staleness TO DEFAULT");
            assertEquals("-1", show(st, "pgbalancer.max_staleness"));
        }
    }

    private static void assertFails(Statement st, String sqlState, String sql) {
        SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
        assertEquals(sqlState, e.getSQLState(), sql + ": " + e.getMessage());
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"extended", "simple"})
    void errorsLeaveTheSessionUsable(String mode) throws Exception {
        try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
            assertFails(st, "22023", "SET pgbalancer.min_lsn = 'abc'");
            assertFails(st, "22023", "SET pgbalancer.max_staleness = 'soon'");
            assertFails(st, "55P02", "SET pgbalancer.commit_lsn = '0/1'");
            assertFails(st, "42704", "SHOW pgbalancer.nosuch");
            assertFails(st, "42704", "SET pgbalancer.nosuch = 1");
            if (mode.equals("simple")) { // extended: pgjdbc sends each statement in a Parse of its own
                assertFails(st, "0A000", "SET pgbalancer.min_lsn = '0/1'; SELECT 1");
            }
            assertEquals("0/0", show(st, "pgbalancer.min_lsn"), "nothing changed");
            try (ResultSet rs = st.executeQuery("SELECT 41 + 1")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1));
            }
        }
    }

    @Test
    void namedPreparedStatementsPastThePrepareThreshold() throws Exception {
        try (Connection c = proxy.connect("prepareThreshold", "2");
             PreparedStatement set = c.prepareStatement("SET pgbalancer.max_staleness = '1min'");
             PreparedStatement reset = c.prepareStatement("RESET pgbalancer.max_staleness");
             PreparedStatement show = c.prepareStatement("SHOW pgbalancer.max_staleness")) {
            for (int i = 0; i < 8; i++) { // unnamed at first, then pgjdbc's named S_n, reused
                set.execute();
                try (ResultSet rs = show.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("1min", rs.getString(1), "round " + i);
                    ResultSetMetaData md = rs.getMetaData();
                    assertEquals("pgbalancer.max_staleness", md.getColumnName(1));
                    assertEquals("text", md.getColumnTypeName(1));
                }
                reset.execute();
                try (ResultSet rs = show.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("-1", rs.getString(1), "round " + i);
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                    assertTrue(rs.next(), "ordinary statements still reach the server in between");
                }
            }
        }
    }

    @Test
    void serverSettingsStillGoToTheServer() throws Exception {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            int rows = 0;
            try (ResultSet rs = st.executeQuery("SHOW ALL")) {
                while (rs.next()) {
                    rows++;
                }
            }
            assertTrue(rows > 100, "SHOW ALL is the server's: " + rows + " rows");
            st.execute("SET pgbalancer.min_lsn = '0/5'");
            st.execute("RESET ALL");
            st.execute("DISCARD ALL");
            assertEquals("0/5", show(st, "pgbalancer.min_lsn"), "RESET ALL and DISCARD ALL are the server's");
            assertEquals("on", show(st, "standard_conforming_strings"));
        }
    }
}

// purpose: unit tests of session-setting extraction: SET/RESET/DISCARD forms, raw value text, special syntaxes
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.sql.Classification.Route;
import io.pgbalancer.sql.SessionSet.Kind;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SessionSetTest {
  private final StatementClassifier classifier = new StatementClassifier(Set.of(), 100);

  private List<SessionSet> sets(String sql) {
    return classifier.classify(sql).sets();
  }

  private SessionSet only(String sql) {
    List<SessionSet> sets = sets(sql);
    assertEquals(1, sets.size(), () -> sql + " -> " + sets);
    return sets.get(0);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "SET search_path TO public                      | search_path            | public",
      "SET search_path = public, \"My Schema\"         | search_path            | public, \"My Schema\"",
      "set SEARCH_PATH to 'a', 'b c'                  | search_path            | 'a', 'b c'",
      "SET search_path TO \"$user\", public;          | search_path            | \"$user\", public",
      "SET SESSION statement_timeout = '5s'           | statement_timeout      | '5s'",
      "SET statement_timeout=0                        | statement_timeout      | 0",
      "SET extra_float_digits=-1                      | extra_float_digits     | -1",
      "SET work_mem TO   '64MB'   -- trailing comment | work_mem               | '64MB'",
      "SET TimeZone TO 'Europe/Berlin'                | timezone               | 'Europe/Berlin'",
      "SET TIME ZONE 'UTC'                            | timezone               | 'UTC'",
      "SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE  | timezone               | INTERVAL '+02:00' HOUR TO MINUTE",
      "SET TIME ZONE -7                               | timezone               | -7",
      "SET SCHEMA 'app'                               | search_path            | 'app'",
      "SET NAMES 'UTF8'                               | client_encoding        | 'UTF8'",
      "SET XML OPTION DOCUMENT                        | xmloption              | DOCUMENT",
      "SET myapp.tenant_id = '42'                     | myapp.tenant_id        | '42'",
      "SET \"MyApp\".\"User\" TO 7                      | myapp.user             | 7",
      "SET application_name = 'it''s; ok'             | application_name       | 'it''s; ok'",
      "SET application_name = E'a\\'b'                 | application_name       | E'a\\'b'",
      "SET datestyle TO ISO, DMY                      | datestyle              | ISO, DMY",
      "SET default_transaction_isolation = 'serializable' | default_transaction_isolation | 'serializable'",
      "SET bytea_output = $$hex$$                     | bytea_output           | $$hex$$",
      "SET search_path /* c */ TO /* d */ a /* e */, b | search_path           | a /* e */, b",
  })
  void setWithValue(String sql, String name, String value) {
    SessionSet s = only(sql);
    assertEquals(new SessionSet(name, value, Kind.SET), s);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "SET application_name TO DEFAULT   | application_name",
      "SET application_name = default   | application_name",
      "SET TIME ZONE DEFAULT             | timezone",
      "SET TIME ZONE LOCAL               | timezone",
      "SET NAMES                         | client_encoding",
      "SET NAMES DEFAULT                 | client_encoding",
      "RESET search_path                 | search_path",
      "reset Statement_Timeout           | statement_timeout",
      "RESET TIME ZONE                   | timezone",
      "RESET myapp.tenant_id             | myapp.tenant_id",
      "RESET ROLE                        | role",
      "RESET SESSION AUTHORIZATION       | session_authorization",
  })
  void resets(String sql, String name) {
    assertEquals(new SessionSet(name, null, Kind.RESET), only(sql));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"RESET ALL", "reset all;", "DISCARD ALL", "discard all"})
  void resetAll(String sql) {
    assertEquals(new SessionSet(null, null, Kind.RESET_ALL), only(sql));
  }

  @Test
  void defaultInsideAValueIsNotAReset() {
    assertEquals(new SessionSet("search_path", "default, public", Kind.SET), only("SET search_path = default, public"));
    assertEquals(new SessionSet("application_name", "'DEFAULT'", Kind.SET), only("SET application_name = 'DEFAULT'"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "SET LOCAL search_path TO app",
      "SET LOCAL TIME ZONE 'UTC'",
      "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
      "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'",
      "SET CONSTRAINTS ALL IMMEDIATE",
      "RESET TRANSACTION ISOLATION LEVEL",
      "DISCARD TEMP",
      "DISCARD PLANS",
      "SET search_path",
      "SET",
      "RESET",
      "SELECT 'SET search_path TO x'",
      "SHOW search_path",
  })
  void noSessionEffect(String sql) {
    assertTrue(sets(sql).isEmpty(), () -> sql + " -> " + sets(sql));
  }

  @Test
  void sessionCharacteristics() {
    assertEquals(List.of(new SessionSet("default_transaction_read_only", "on", Kind.SET)),
        sets("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"));
    assertEquals(List.of(new SessionSet("default_transaction_read_only", "off", Kind.SET)),
        sets("set session characteristics as transaction read write"));
    assertEquals(List.of(
            new SessionSet("default_transaction_isolation", "'repeatable read'", Kind.SET),
            new SessionSet("default_transaction_read_only", "on", Kind.SET),
            new SessionSet("default_transaction_deferrable", "on", Kind.SET)),
        sets("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE   READ, READ ONLY DEFERRABLE"));
    assertEquals(List.of(
            new SessionSet("default_transaction_isolation", "'read committed'", Kind.SET),
            new SessionSet("default_transaction_deferrable", "off", Kind.SET)),
        sets("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED NOT DEFERRABLE"));
    assertEquals(List.of(new SessionSet("default_transaction_isolation", "'serializable'", Kind.SET)),
        sets("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
  }

  @Test
  void savepointStepsNameTheirSavepoint() {
    assertEquals(List.of(new SessionSet("sp1", null, Kind.SAVEPOINT)), sets("SAVEPOINT sp1"));
    assertEquals(List.of(new SessionSet("Mixed", null, Kind.ROLLBACK_TO)), sets("ROLLBACK WORK TO SAVEPOINT \"Mixed\""));
    assertEquals(List.of(new SessionSet("sp1", null, Kind.ROLLBACK_TO)), sets("rollback to sp1"));
    assertEquals(List.of(new SessionSet("pgjdbc_autosave", null, Kind.RELEASE)), sets("RELEASE SAVEPOINT PGJDBC_AUTOSAVE"));
    assertEquals(List.of(new SessionSet("sp2", null, Kind.RELEASE)), sets("RELEASE sp2"));
  }

  @Test
  void setsAcrossStatementsKeepOrder() {
    Classification c = classifier.classify(
        "SET search_path TO a; SELECT 1; RESET work_mem; SET LOCAL x = 1; SET TIME ZONE 'UTC'; RESET ALL");
    assertEquals(List.of(
        new SessionSet("search_path", "a", Kind.SET, 0),
        new SessionSet("work_mem", null, Kind.RESET, 2),
        new SessionSet("timezone", "'UTC'", Kind.SET, 4),
        new SessionSet(null, null, Kind.RESET_ALL, 5)), c.sets());
    assertEquals(6, c.statementCount());
    assertEquals(Route.WRITE, c.route());
  }

  @Test
  void setsListIsImmutable() {
    List<SessionSet> sets = sets("SET a.b = 1");
    assertThrows(UnsupportedOperationException.class, () -> sets.add(SessionSet.resetAll()));
  }

  @Test
  void roleChangesPinInsteadOfSetting() {
    for (String sql : List.of("SET ROLE admin", "SET SESSION ROLE admin", "SET role TO admin", "SET ROLE NONE",
        "SET SESSION AUTHORIZATION 'alice'", "SET SESSION AUTHORIZATION DEFAULT", "SET session_authorization = bob")) {
      Classification c = classifier.classify(sql);
      assertTrue(c.pins(), sql);
      assertEquals("SET ROLE/SESSION AUTHORIZATION", c.pinReason(), sql);
      assertTrue(c.sets().isEmpty(), sql);
    }
    assertFalse(classifier.classify("SET LOCAL ROLE admin").pins());
  }

  @Test
  void recordValidation() {
    assertThrows(IllegalArgumentException.class, () -> new SessionSet("x", null, Kind.RESET_ALL));
    assertThrows(IllegalArgumentException.class, () -> new SessionSet(null, "1", Kind.SET));
    assertThrows(IllegalArgumentException.class, () -> new SessionSet("x", "1", null));
  }
}

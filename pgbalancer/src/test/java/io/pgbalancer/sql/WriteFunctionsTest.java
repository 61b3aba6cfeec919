// purpose: unit tests of WriteFunctions lookup (case folding, session locks, lo_ prefix, extras normalisation)
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

class WriteFunctionsTest {
  private final WriteFunctions functions = new WriteFunctions(Set.of("My_Func", "audit.log_event", "\"Quoted\""));

  private int lookup(String name) {
    String sql = "  " + name + "(";
    return functions.lookup(sql, 2, 2 + name.length());
  }

  @Test
  void builtIns() {
    assertEquals(WriteFunctions.WRITE, lookup("nextval"));
    assertEquals(WriteFunctions.WRITE, lookup("NextVal"));
    assertEquals(WriteFunctions.WRITE, lookup("pg_advisory_xact_lock"));
    assertEquals(WriteFunctions.WRITE, lookup("pg_advisory_unlock_all"));
    assertEquals(WriteFunctions.WRITE, lookup("set_config"));
    assertEquals(WriteFunctions.WRITE, lookup("dblink_exec"));
    assertEquals(WriteFunctions.NONE, lookup("count"));
    assertEquals(WriteFunctions.NONE, lookup("nextva"));
    assertEquals(WriteFunctions.NONE, lookup("nextvalx"));
    assertEquals(WriteFunctions.NONE, lookup(""));
  }

  @Test
  void sessionLocks() {
    for (String name : WriteFunctions.SESSION_LOCKS) {
      assertEquals(WriteFunctions.SESSION_LOCK, lookup(name), name);
      assertEquals(WriteFunctions.SESSION_LOCK, lookup(name.toUpperCase()), name);
    }
  }

  @Test
  void largeObjectsAreWrites() {
    assertEquals(WriteFunctions.WRITE, lookup("lo_create"));
    assertEquals(WriteFunctions.WRITE, lookup("lo_get"));
    assertEquals(WriteFunctions.WRITE, lookup("LO_FROM_BYTEA"));
    assertEquals(WriteFunctions.WRITE, lookup("lowrite"));
    assertEquals(WriteFunctions.NONE, lookup("lo_"));
    assertEquals(WriteFunctions.NONE, lookup("lower"));
  }

  @Test
  void extrasAreNormalised() {
    assertEquals(WriteFunctions.WRITE, lookup("my_func"));
    assertEquals(WriteFunctions.WRITE, lookup("MY_FUNC"));
    assertEquals(WriteFunctions.WRITE, lookup("log_event"));
    assertEquals(WriteFunctions.WRITE, lookup("quoted"));
    assertEquals("log_event", WriteFunctions.normalize(" Audit.Log_Event "));
    assertEquals("", WriteFunctions.normalize(null));
  }

  @Test
  void everyBuiltInIsFound() {
    for (String name : WriteFunctions.BUILT_IN) {
      assertEquals(WriteFunctions.WRITE, lookup(name), name);
    }
  }
}

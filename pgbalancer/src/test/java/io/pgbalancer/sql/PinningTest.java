// purpose: unit tests of session pinning: which statements pin, the reason reported, and what must not pin
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PinningTest {
  private final StatementClassifier classifier = new StatementClassifier(Set.of(), 0);

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "LISTEN jobs                                             | LISTEN",
      "SELECT pg_advisory_lock(1)                              | session advisory lock",
      "SELECT pg_try_advisory_lock(1, 2)                       | session advisory lock",
      "SELECT pg_advisory_lock_shared(1)                       | session advisory lock",
      "SELECT pg_try_advisory_lock_shared(1)                   | session advisory lock",
      "SELECT \"pg_advisory_lock\"(1)                           | session advisory lock",
      "SELECT x FROM t WHERE pg_try_advisory_lock(t.id)        | session advisory lock",
      "CREATE TEMP TABLE t (a int)                             | temporary table",
      "CREATE TEMPORARY TABLE t AS SELECT 1                    | temporary table",
      "CREATE GLOBAL TEMP TABLE t (a int)                      | temporary table",
      "CREATE LOCAL TEMPORARY TABLE t (a int)                  | temporary table",
      "CREATE TABLE IF NOT EXISTS pg_temp.t (a int)            | temporary table",
      "CREATE TABLE pg_temp_3.t (a int)                        | temporary table",
      "CREATE TEMP VIEW v AS SELECT 1                          | temporary view",
      "CREATE TEMP SEQUENCE s                                  | temporary sequence",
      "SELECT * INTO TEMP t FROM u                             | temporary table",
      "SELECT * INTO TEMPORARY t FROM u                        | temporary table",
      "SELECT * INTO GLOBAL TEMPORARY TABLE t FROM u           | temporary table",
      "DECLARE c CURSOR WITH HOLD FOR SELECT 1                 | WITH HOLD cursor",
      "DECLARE c BINARY INSENSITIVE SCROLL CURSOR WITH HOLD FOR SELECT 1 | WITH HOLD cursor",
      "PREPARE stmt AS SELECT 1                                | SQL PREPARE",
      "PREPARE stmt(int) AS UPDATE t SET a = $1                | SQL PREPARE",
      "PREPARE transaction AS SELECT 1                         | SQL PREPARE",
      "SET ROLE admin                                          | SET ROLE/SESSION AUTHORIZATION",
      "SET SESSION AUTHORIZATION bob                           | SET ROLE/SESSION AUTHORIZATION",
      "LOAD 'auto_explain'                                     | LOAD",
      "SELECT set_config('app.user', '7', false)               | session set_config",
      "SELECT set_config('app.user', $1, $2)                   | session set_config",
  })
  void pins(String sql, String reason) {
    Classification c = classifier.classify(sql);
    assertTrue(c.pins(), sql);
    assertEquals(reason, c.pinReason(), sql);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "UNLISTEN jobs",
      "UNLISTEN *",
      "NOTIFY jobs",
      "SELECT pg_notify('jobs', 'x')",
      "SELECT pg_advisory_xact_lock(1)",
      "SELECT pg_try_advisory_xact_lock(1)",
      "SELECT pg_advisory_xact_lock_shared(1)",
      "SELECT pg_advisory_unlock(1)",
      "SELECT 'pg_advisory_lock(1)'",
      "SELECT pg_advisory_lock FROM t",
      "EXPLAIN SELECT pg_advisory_lock(1)",
      "CREATE UNLOGGED TABLE t (a int)",
      "CREATE TABLE temp_data (a int)",
      "CREATE TABLE t (a int) -- TEMP",
      "CREATE TABLE my_pg_temp.t (a int)",
      "SELECT * INTO t FROM u",
      "SELECT * INTO UNLOGGED t FROM u",
      "INSERT INTO temp VALUES (1)",
      "DECLARE c CURSOR FOR SELECT 1",
      "DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1",
      "DECLARE c CURSOR FOR SELECT 'WITH HOLD'",
      "PREPARE TRANSACTION 'gid'",
      "EXECUTE stmt",
      "DEALLOCATE stmt",
      "SET LOCAL ROLE admin",
      "SELECT set_config('app.user', '7', true)",
      "SELECT set_config('request.jwt.claims', $1, TRUE)",
      "DISCARD ALL",
      "SELECT 1",
      "SET search_path TO app",
  })
  void doesNotPin(String sql) {
    Classification c = classifier.classify(sql);
    assertFalse(c.pins(), () -> sql + " -> " + c);
    assertNull(c.pinReason());
  }

  @Test
  void firstReasonWinsInMultiStatementText() {
    Classification c = classifier.classify("SELECT 1; LISTEN a; CREATE TEMP TABLE t (x int); SELECT pg_advisory_lock(1)");
    assertTrue(c.pins());
    assertEquals("LISTEN", c.pinReason());
    assertEquals(4, c.statementCount());
  }

  @Test
  void pinReasonIsNullWhenRecordSaysNoPin() {
    Classification c = new Classification(Classification.Route.READ, Classification.Hint.NONE,
        Classification.TxnControl.NONE, null, false, "ignored", 1);
    assertNull(c.pinReason());
    assertTrue(c.sets().isEmpty());
  }
}

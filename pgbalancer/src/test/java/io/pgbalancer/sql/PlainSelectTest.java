// purpose: PlainSelect accepts only texts the full classifier calls one plain read: corpus, hand cases and random texts
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PlainSelectTest {
  private static final StatementClassifier CLASSIFIER = new StatementClassifier(Set.of(), 0);

  private static boolean matches(String sql) {
    byte[] b = sql.getBytes(StandardCharsets.UTF_8);
    return PlainSelect.matches(b, b.length);
  }

  /** Wherever the fast path answers, its answer is the classifier's. */
  private static void agrees(String sql) {
    if (matches(sql)) {
      assertEquals(CLASSIFIER.compute(sql), StatementClassifier.PLAIN_READ, () -> "fast path accepted: " + sql);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
      "select * from t where a >= 1 and b <> 2 order by a limit 10",
      "  SELECT a.x, b.y FROM a JOIN b ON a.id = b.id WHERE a.k::int = 5 ;  \n",
      "select 1", "SELECT*FROM t", "select x from t where y is not null offset 3 fetch first 2 rows only"})
  void plainReadsAreAccepted(String sql) {
    assertTrue(matches(sql), sql);
    assertEquals(StatementClassifier.PLAIN_READ, CLASSIFIER.compute(sql));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "SELECT * FROM t FOR UPDATE", "select * from t for share", "SELECT a INTO b FROM t", "select nextval('s')",
      "select pg_advisory_lock(1)", "select 1; select 2", "select 1; delete from t", "select * from t where a = 'x'",
      "/* pgbalancer: primary */ select 1", "select 1 -- comment", "select $1", "select E'\\\\'", "select \"for\" from t",
      "selection from t", "update t set a = 1", "with x as (delete from t) select 1", "select 1for update",
      "select * from t where a = 1 union select * from t2 for update", "select a from insert", "SELECT é FROM t",
      "select 1 from t merge", "select * from t where a = -1", "select x from t ;;", "values (1)", ""})
  void anythingThatCouldWriteOrCarryAHintIsLeftToTheClassifier(String sql) {
    assertFalse(matches(sql), sql);
  }

  @Test
  void theCorpusAgrees() {
    for (ClassifierCorpusTest.Case c : ClassifierCorpusTest.load()) {
      agrees(c.sql());
    }
  }

  /** Random texts from SELECT plus words, numbers and punctuation, risky ones included. */
  @Test
  void randomTextsAgree() {
    String[] parts = {"select", "SELECT", " ", " ", " ", "a", "t.x", "from", "where", "=", "1", "42", "for", "update",
        "into", "insert", "delete", "merge", "share", ";", ",", "*", "(", ")", "'q'", "--", "/*", "*/", "\n", "1for",
        "::int", "$1", "-", "and", "or", "not", "in", "union", "lock", "limit", "offset", "e", "\"x\"", "é"};
    Random r = new Random(11);
    int accepted = 0;
    for (int n = 0; n < 200_000; n++) {
      StringBuilder sb = new StringBuilder(r.nextBoolean() ? "select " : "");
      for (int k = r.nextInt(12); k >= 0; k--) {
        sb.append(parts[r.nextInt(parts.length)]).append(r.nextInt(3) == 0 ? "" : " ");
      }
      String sql = sb.toString();
      agrees(sql);
      accepted += matches(sql) ? 1 : 0;
    }
    assertTrue(accepted > 1_000, "the random texts hardly exercise the fast path: " + accepted);
  }
}

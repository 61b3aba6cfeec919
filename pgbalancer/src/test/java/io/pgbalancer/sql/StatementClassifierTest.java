// purpose: unit tests of StatementClassifier: caching (identity, bound, long texts), extra write functions, hints, edge input
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.sql.Classification.Hint;
import io.pgbalancer.sql.Classification.Route;
import io.pgbalancer.sql.Classification.TxnControl;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StatementClassifierTest {

  @Test
  void cachedClassificationIsTheSameInstance() {
    StatementClassifier c = new StatementClassifier(Set.of(), 100);
    String sql = "SET search_path TO app";
    Classification first = c.classify(sql);
    Classification second = c.classify(new String(sql.toCharArray())); // equal text, different String object
    assertSame(first, second);
    assertEquals(1, c.cachedCount());
  }

  @Test
  void cacheIsBounded() {
    StatementClassifier c = new StatementClassifier(Set.of(), 50);
    for (int i = 0; i < 1_000; i++) {
      Classification r = c.classify("SELECT * FROM t WHERE id = " + i);
      assertEquals(Route.READ, r.route());
      assertTrue(c.cachedCount() <= 50, "cache grew to " + c.cachedCount());
    }
    assertTrue(c.cachedCount() > 0);
  }

  @Test
  void cacheSizeOneStillWorks() {
    StatementClassifier c = new StatementClassifier(Set.of(), 1);
    for (int i = 0; i < 10; i++) {
      c.classify("SELECT " + i);
      assertTrue(c.cachedCount() <= 1);
    }
  }

  @Test
  void longTextsAreClassifiedButNotCached() {
    StatementClassifier c = new StatementClassifier(Set.of(), 100);
    String longSql = "SELECT " + "1, ".repeat(4_000) + "nextval('s')";
    assertTrue(longSql.length() > ClassificationCache.MAX_CACHED_LENGTH);
    Classification r = c.classify(longSql);
    assertEquals(Route.WRITE, r.route());
    assertEquals(0, c.cachedCount());
    Classification again = c.classify(longSql);
    assertEquals(r, again);
  }

  @Test
  void zeroCacheSizeDisablesCaching() {
    StatementClassifier c = new StatementClassifier(Set.of(), 0);
    Classification a = c.classify("SET a.b = 1");
    Classification b = c.classify("SET a.b = 1");
    assertEquals(a, b);
    assertNotSame(a, b);
    assertEquals(0, c.cachedCount());
  }

  @Test
  void clearCache() {
    StatementClassifier c = new StatementClassifier(Set.of(), 10);
    c.classify("SELECT 1");
    c.clearCache();
    assertEquals(0, c.cachedCount());
  }

  @Test
  void extraWriteFunctionsFromConfig() {
    StatementClassifier plain = new StatementClassifier(Set.of(), 10);
    StatementClassifier custom = new StatementClassifier(Set.of("audit_log", "app.bump_counter", " Mixed_Case "), 10);
    for (String sql : List.of("SELECT audit_log('x')", "SELECT app.audit_log('x')", "SELECT \"audit_log\"('x')",
        "SELECT AUDIT_LOG('x')", "SELECT bump_counter()", "SELECT other.bump_counter()", "SELECT mixed_case(1)")) {
      assertEquals(Route.READ, plain.classify(sql).route(), sql);
      assertEquals(Route.WRITE, custom.classify(sql).route(), sql);
    }
    assertEquals(Route.READ, custom.classify("SELECT audit_log FROM t").route(), "not a call");
    assertEquals(Route.READ, custom.classify("SELECT audit_logs('x')").route());
    assertEquals(Route.WRITE, custom.classify("SELECT nextval('s')").route(), "built-ins still apply");
  }

  @Test
  void nullExtraFunctionsAreAllowed() {
    StatementClassifier c = new StatementClassifier(null, 10);
    assertEquals(Route.WRITE, c.classify("SELECT setval('s', 1)").route());
  }

  @Test
  void hintOverridesRouteAndIsReported() {
    StatementClassifier c = new StatementClassifier(Set.of(), 10);
    Classification primary = c.classify("/* pgbalancer: primary */ SELECT 1");
    assertEquals(Route.WRITE, primary.route());
    assertEquals(Hint.PRIMARY, primary.hint());
    Classification replica = c.classify("/*pgbalancer:replica*/ UPDATE t SET a = 1");
    assertEquals(Route.READ, replica.route());
    assertEquals(Hint.REPLICA, replica.hint());
    assertEquals(Hint.NONE, c.classify("SELECT 1 /* pgbalancer: primary */").hint());
    assertEquals(Hint.NONE, c.classify("/* pgbalancer: primary").hint(), "unterminated comment");
    assertEquals(Route.WRITE, c.classify("/* pgbalancer: primary").route());
    Classification onlyHint = c.classify("/* pgbalancer: primary */");
    assertEquals(Route.WRITE, onlyHint.route());
    assertEquals(0, onlyHint.statementCount());
  }

  @Test
  void stalenessHintIsReported() {
    StatementClassifier c = new StatementClassifier(Set.of(), 10);
    Classification both = c.classify("/* pgbalancer: replica */ /* pgbalancer: max_staleness=500ms */ UPDATE t SET a = 1");
    assertEquals(500_000_000L, both.maxStalenessNanos());
    assertEquals(Hint.REPLICA, both.hint());
    assertEquals(Route.READ, both.route());
    Classification alone = c.classify("/* pgbalancer: max_staleness=2s */ SELECT 1");
    assertEquals(2_000_000_000L, alone.maxStalenessNanos());
    assertEquals(Route.READ, alone.route());
    assertEquals(Hint.NONE, alone.hint());
    assertEquals(Route.WRITE, c.classify("/* pgbalancer: max_staleness=2s */ INSERT INTO t VALUES (1)").route(),
        "a staleness hint does not route");
    assertEquals(-1, c.classify("/* pgbalancer: max_staleness=soon */ SELECT 1").maxStalenessNanos(), "invalid: none");
    assertEquals(-1, c.classify("SELECT 1 /* pgbalancer: max_staleness=2s */").maxStalenessNanos(), "not leading");
  }

  @Test
  void plainStatementsShareInstancesAndAStalenessHintDoesNot() {
    StatementClassifier c = new StatementClassifier(Set.of(), 0);
    assertSame(c.classify("SELECT 1"), c.classify("SELECT 2"));
    assertNotSame(c.classify("SELECT 1"), c.classify("/* pgbalancer: max_staleness=1s */ SELECT 2"));
    assertEquals(-1, c.classify("SELECT 1").maxStalenessNanos());
    Classification old = new Classification(Route.READ, Hint.NONE, TxnControl.NONE, List.of(), false, null, 1);
    assertEquals(Classification.NO_STALENESS_HINT, old.maxStalenessNanos());
  }

  @Test
  void emptyInput() {
    StatementClassifier c = new StatementClassifier(Set.of(), 10);
    for (String sql : new String[] {null, "", "   ", ";", "-- hi", "/* */ ; /* */"}) {
      Classification r = c.classify(sql);
      assertEquals(Route.READ, r.route(), String.valueOf(sql));
      assertEquals(0, r.statementCount(), String.valueOf(sql));
      assertEquals(TxnControl.NONE, r.txn());
    }
  }

  @Test
  void plainResultsShareInstances() {
    StatementClassifier c = new StatementClassifier(Set.of(), 0);
    assertSame(c.classify("SELECT 1"), c.classify("SELECT 2"));
    assertSame(c.classify("INSERT INTO t VALUES (1)"), c.classify("DELETE FROM t"));
    assertTrue(c.classify("SELECT 1").isRead());
  }

  @Test
  void concurrentUseIsSafe() throws Exception {
    StatementClassifier c = new StatementClassifier(Set.of(), 64);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          for (int i = 0; i < 2_000; i++) {
            int k = i % 200;
            Route expected = k % 2 == 0 ? Route.READ : Route.WRITE;
            String sql = k % 2 == 0 ? "SELECT " + k : "UPDATE t SET a = " + k;
            if (c.classify(sql).route() != expected) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> f : results) {
        assertTrue(f.get(30, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(c.cachedCount() <= 64 + 4, "bounded up to in-flight inserts: " + c.cachedCount());
  }

  @Test
  void sameTextSameResultRegardlessOfCache() {
    StatementClassifier cached = new StatementClassifier(Set.of(), 1000);
    StatementClassifier uncached = new StatementClassifier(Set.of(), 0);
    Set<String> seen = new HashSet<>();
    for (ClassifierCorpusTest.Case k : ClassifierCorpusTest.load()) {
      if (seen.add(k.sql())) {
        assertEquals(uncached.classify(k.sql()), cached.classify(k.sql()), k.sql());
        assertEquals(uncached.classify(k.sql()), cached.classify(k.sql()), k.sql());
      }
    }
  }
}

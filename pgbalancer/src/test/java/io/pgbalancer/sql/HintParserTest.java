// purpose: unit tests of HintParser: routing and max_staleness hints, in their own leading comments, and what is no hint
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.pgbalancer.sql.Classification.Hint;
import io.pgbalancer.sql.HintParser.Hints;
import org.junit.jupiter.api.Test;

class HintParserTest {
  private static final long MS = 1_000_000L;

  @Test
  void routingHintAlone() {
    assertEquals(new Hints(Hint.PRIMARY, -1), HintParser.parse("/* pgbalancer: primary */ SELECT 1"));
    assertEquals(new Hints(Hint.REPLICA, -1), HintParser.parse("/*PgBalancer :  REPLICA */UPDATE t SET a = 1"));
  }

  @Test
  void stalenessHintAlone() {
    assertEquals(new Hints(Hint.NONE, 500 * MS), HintParser.parse("/* pgbalancer: max_staleness=500ms */ SELECT 1"));
    assertEquals(new Hints(Hint.NONE, 2_000 * MS), HintParser.parse("/*pgbalancer:MAX_STALENESS = 2 s*/SELECT 1"));
    assertEquals(new Hints(Hint.NONE, 250 * MS), HintParser.parse("/* pgbalancer: max_staleness=250 */ SELECT 1"),
        "a bare number is milliseconds");
    assertEquals(new Hints(Hint.NONE, 0), HintParser.parse("/* pgbalancer: max_staleness=0 */ SELECT 1"));
  }

  @Test
  void bothHintsInTheirOwnComments() {
    Hints expected = new Hints(Hint.REPLICA, 60_000 * MS);
    assertEquals(expected, HintParser.parse("/* pgbalancer: replica */ /* pgbalancer: max_staleness=1min */ SELECT 1"));
    assertEquals(expected, HintParser.parse("/* pgbalancer: max_staleness=1min */\n-- note\n/* pgbalancer: replica */"
        + " SELECT 1"));
  }

  @Test
  void firstOfEachKindWins() {
    assertEquals(new Hints(Hint.PRIMARY, 1 * MS), HintParser.parse("/* pgbalancer: max_staleness=1ms */"
        + " /* pgbalancer: primary */ /* pgbalancer: replica */ /* pgbalancer: max_staleness=9ms */ SELECT 1"));
  }

  @Test
  void invalidStalenessIsIgnored() {
    for (String sql : new String[] {
        "/* pgbalancer: max_staleness=abc */ SELECT 1",
        "/* pgbalancer: max_staleness=500MS */ SELECT 1",
        "/* pgbalancer: max_staleness=-1 */ SELECT 1",
        "/* pgbalancer: max_staleness= */ SELECT 1",
        "/* pgbalancer: max_staleness 500ms */ SELECT 1",
        "/* pgbalancer: max_staleness=500ms, replica */ SELECT 1",
    }) {
      assertSame(Hints.NONE, HintParser.parse(sql), sql);
    }
    assertEquals(new Hints(Hint.NONE, 3 * MS),
        HintParser.parse("/* pgbalancer: max_staleness=oops */ /* pgbalancer: max_staleness=3ms */ SELECT 1"),
        "an invalid hint is as if it were not there");
  }

  @Test
  void onlyLeadingCommentsCount() {
    assertSame(Hints.NONE, HintParser.parse("SELECT 1 /* pgbalancer: max_staleness=5ms */"));
    assertSame(Hints.NONE, HintParser.parse("/* pgbalancer: max_staleness=5ms"));
    assertEquals(new Hints(Hint.REPLICA, -1),
        HintParser.parse("/* pgbalancer: replica */ SELECT 1 /* pgbalancer: max_staleness=5ms */"));
  }
}

// purpose: runs every line of sql/classifier-corpus.tsv through StatementClassifier as its own test case
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgbalancer.sql.Classification.Hint;
import io.pgbalancer.sql.Classification.Route;
import io.pgbalancer.sql.Classification.TxnControl;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ClassifierCorpusTest {
  private static final String CORPUS = "/sql/classifier-corpus.tsv";
  private static final StatementClassifier CLASSIFIER = new StatementClassifier(Set.of(), 0);

  /** One corpus line: expected attributes and the statement text. */
  record Case(int line, String expected, String sql) {
    @Override
    public String toString() {
      String shown = sql.replace("\n", "\\n").replace("\t", "\\t");
      return "L" + line + " [" + expected + "] " + (shown.length() > 100 ? shown.substring(0, 100) + "..." : shown);
    }
  }

  static Stream<Arguments> corpus() {
    return load().stream().map(Arguments::of);
  }

  static List<Case> load() {
    InputStream in = Objects.requireNonNull(ClassifierCorpusTest.class.getResourceAsStream(CORPUS), CORPUS);
    List<Case> cases = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int no = 0;
      while ((line = r.readLine()) != null) {
        no++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        int tab = line.indexOf('\t');
        if (tab < 0) {
          throw new IllegalStateException(CORPUS + ":" + no + ": missing TAB");
        }
        cases.add(new Case(no, line.substring(0, tab).trim(), unescape(line.substring(tab + 1))));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return cases;
  }

  static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        switch (n) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case '\\' -> b.append('\\');
          default -> b.append('\\').append(n);
        }
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void classifies(Case c) {
    String[] parts = c.expected().split("\\s+");
    Route route = Route.valueOf(parts[0]);
    TxnControl txn = TxnControl.NONE;
    String pin = null;
    int sets = 0;
    Hint hint = Hint.NONE;
    int count = 1;
    for (int i = 1; i < parts.length; i++) {
      String[] kv = parts[i].split("=", 2);
      switch (kv[0]) {
        case "txn" -> txn = TxnControl.valueOf(kv[1]);
        case "pin" -> pin = kv[1].replace('+', ' ');
        case "sets" -> sets = Integer.parseInt(kv[1]);
        case "hint" -> hint = Hint.valueOf(kv[1]);
        case "count" -> count = Integer.parseInt(kv[1]);
        default -> throw new IllegalArgumentException("line " + c.line() + ": unknown attribute " + parts[i]);
      }
    }
    Classification got = CLASSIFIER.classify(c.sql());
    String where = "corpus line " + c.line() + ": " + c.sql() + " -> " + got;
    assertEquals(route, got.route(), where);
    assertEquals(txn, got.txn(), where);
    assertEquals(pin != null, got.pins(), where);
    assertEquals(pin, got.pinReason(), where);
    assertEquals(sets, got.sets().size(), where);
    assertEquals(hint, got.hint(), where);
    assertEquals(count, got.statementCount(), where);
  }

  @Test
  void corpusIsLargeEnough() {
    List<Case> cases = load();
    org.junit.jupiter.api.Assertions.assertTrue(cases.size() >= 200, "only " + cases.size() + " corpus cases");
  }
}

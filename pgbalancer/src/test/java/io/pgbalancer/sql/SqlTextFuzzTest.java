// purpose: fuzzes the SQL text parsers (lexer, classifier, hints, durations, pgbalancer.* statements, startup options)
package io.pgbalancer.sql;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.causal.ProxyError;
import io.pgbalancer.causal.ProxySettings;
import io.pgbalancer.causal.ProxyStatement;
import io.pgbalancer.fuzz.Frontend;
import io.pgbalancer.fuzz.Fuzz;
import io.pgbalancer.fuzz.Mutate;
import io.pgbalancer.protocol.ProtocolException;
import io.pgbalancer.session.SessionSettings;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Text as the proxy decodes it from a message (UTF-8 with replacement characters for bad bytes). Contracts: the
 * classifier and ProxyStatement.parse never throw; running a virtual statement throws only ProxyError; a duration is
 * parsed or refused with IllegalArgumentException; startup options give settings or a ProtocolException (22023). Large
 * adversarial texts (runs of quotes, comment openers, dollar signs, digits) must stay fast: linear, not quadratic.
 */
@Tag("fuzz")
class SqlTextFuzzTest {
    private static final StatementClassifier CLASSIFIER = new StatementClassifier(java.util.Set.of("my_write"), 1000);

    /** A statement text: from the vocabulary, corrupted at the byte level, decoded as the proxy decodes it. */
    static String text(SplittableRandom r) {
        byte[] b = Frontend.text(r, Frontend.SQL);
        int n = r.nextInt(3);
        for (int i = 0; i < n; i++) {
            b = Mutate.bytes(r, b);
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void classifier() {
        Fuzz.run("StatementClassifier", 1.0, c -> {
            String sql = text(c.random);
            c.input("sql", sql);
            Classification cl = CLASSIFIER.classify(sql);
            assertNotNull(cl);
            assertNotNull(cl.sets());
            SessionSettings.NONE.apply(cl.sets()); // what a session does with a statement's SETs once it ran
            c.outcome(cl.isRead() ? "read" : "write");
        });
    }

    @Test
    void proxyStatements() {
        Fuzz.run("ProxyStatement.parse", 1.0, c -> {
            String sql = c.chance(0.5) ? text(c.random)
                    : Frontend.pick(c.random, List.of("SET", "SHOW", "RESET", "set local", "SET SESSION")) + " "
                    + Frontend.pick(c.random, List.of("pgbalancer.min_lsn", "pgbalancer.max_staleness",
                    "pgbalancer.commit_lsn", "PgBalancer.\"min_lsn\"", "pgbalancer.x", "\"pgbalancer\".min_lsn"))
                    + Frontend.pick(c.random, List.of("", " TO ", " = ", " to default", "=")) + text(c.random);
            c.input("sql", sql);
            ProxyStatement st = ProxyStatement.parse(sql);
            if (st == null) {
                c.outcome("not virtual");
                return;
            }
            c.outcome(Fuzz.attempt(() -> st.run(new ProxySettings(), () -> 0x16B3740L), ProxyError.class));
        });
    }

    @Test
    void durations() {
        Fuzz.run("StalenessParser", 1.0, c -> {
            String text = c.chance(0.5) ? text(c.random)
                    : c.between(0, 20) + Frontend.pick(c.random, List.of("", ".", ".5", "0000", "e3")) + " "
                    + Frontend.pick(c.random, List.of("", "us", "ms", "s", "min", "h", "d", "MS", "sec"));
            c.input("duration", text);
            c.outcome(Fuzz.attempt(() -> StalenessParser.parseNanos(text), IllegalArgumentException.class));
        });
    }

    @Test
    void startupOptions() {
        Fuzz.run("SessionSettings.fromStartup", 1.0, c -> {
            Map<String, String> params = new LinkedHashMap<>();
            params.put("user", "app");
            params.put("options", new String(Frontend.text(c.random, List.of("-c search_path=x", "--work_mem=64kB",
                    "-c", "-cfoo", "-c a\\ b=c", "-c default_transaction_read_only=on", "x", "--=", "-c =v",
                    "-c\\", "\\")), StandardCharsets.UTF_8));
            if (c.chance(0.5)) {
                params.put(text(c.random), text(c.random));
            }
            c.input("options", params.toString());
            c.outcome(Fuzz.attempt(() -> {
                SessionSettings s = SessionSettings.fromStartup(params);
                s.syncSql(SessionSettings.NONE);
            }, ProtocolException.class));
        });
    }

    /** Texts of a megabyte made of what makes lexers backtrack: each is classified in well under the watchdog's time. */
    @Test
    void largeAdversarialTexts() {
        List<String> units = List.of("'", "\"", "$", "$$", "$a$", "/*", "*/", "--", "\\", "9", "9.", " ", "e'", "U&'",
                "/* pgbalancer: max_staleness=9", "SET pgbalancer.max_staleness = '9", "(", "pgbalancer", "é");
        Fuzz.run("StatementClassifier.large", 0.005, c -> {
            String unit = c.pick(units) + (c.chance(0.5) ? "" : c.pick(units));
            String sql = (c.chance(0.5) ? c.pick(List.of("SELECT ", "/* pgbalancer: max_staleness=", "SET pgbalancer.max_staleness = '", ""))
                    : "") + unit.repeat(1_000_000 / unit.length());
            c.input("sql", sql.substring(0, 64));
            long t = System.nanoTime();
            CLASSIFIER.compute(sql);
            ProxyStatement st = ProxyStatement.parse(sql);
            if (st != null) {
                Fuzz.attempt(() -> st.run(new ProxySettings(), () -> 0L), ProxyError.class);
            }
            long ms = (System.nanoTime() - t) / 1_000_000;
            assertTrue(ms < 5_000, "a 1 MB text took " + ms + " ms: " + sql.substring(0, 40) + "...");
        });
    }
}

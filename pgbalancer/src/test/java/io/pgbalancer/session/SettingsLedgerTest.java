// purpose: SettingsLedger keeps exactly the SET/RESET changes the server applied and kept (savepoints, errors, pipelines)
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pgbalancer.sql.Classification;
import io.pgbalancer.sql.StatementClassifier;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsLedgerTest {
    private final StatementClassifier classifier = new StatementClassifier(null, 100);
    private final SettingsLedger ledger = new SettingsLedger(SessionSettings.fromStartup(
            Map.of("user", "u", "DateStyle", "Postgres, MDY")));

    /** The server completed one statement of an extended-protocol Execute, with the tag it would send. */
    private void execute(String sql) {
        Classification c = classifier.classify(sql);
        String tag = sql.split(" ")[0].toUpperCase(java.util.Locale.ROOT);
        ledger.completed(c, false, tag.equals("ROLLBACK") || tag.equals("ABORT"), tag.equals("COMMIT"));
    }

    /** The client's settings, as the SQL that would bring a bare backend to them. */
    private String settings() {
        return ledger.settings().syncSql(SessionSettings.NONE);
    }

    @Test
    void autocommitSetLastsAtIdleReadyForQuery() {
        execute("SET search_path TO a");
        assertEquals(settings().contains("search_path"), false, "not before the transaction ends");
        ledger.readyForQuery('I');
        assertEquals(true, settings().contains("SET search_path TO a"));
    }

    @Test
    void rollbackToSavepointUndoesOnlyLaterSets() {
        execute("BEGIN");
        execute("SET search_path TO before_sp");
        execute("SAVEPOINT s1");
        execute("SET work_mem TO '8MB'");
        ledger.readyForQuery('T');
        ledger.failed(); // an error after the savepoint (pgjdbc autosave does exactly this)
        ledger.readyForQuery('E');
        execute("ROLLBACK TO SAVEPOINT s1");
        ledger.readyForQuery('T');
        execute("COMMIT");
        ledger.readyForQuery('I');
        assertEquals(true, settings().contains("SET search_path TO before_sp"), settings());
        assertEquals(false, settings().contains("work_mem"), settings());
    }

    @Test
    void errorWithoutSavepointDropsTheTransactionsSets() {
        execute("BEGIN");
        execute("SET search_path TO doomed");
        ledger.failed();
        ledger.readyForQuery('E');
        execute("ROLLBACK");
        ledger.readyForQuery('I');
        assertEquals(false, settings().contains("doomed"), settings());
    }

    @Test
    void releaseKeepsSetsAndForgetsTheSavepoint() {
        execute("BEGIN");
        execute("SAVEPOINT a");
        execute("SET search_path TO kept");
        execute("RELEASE SAVEPOINT a");
        execute("COMMIT");
        ledger.readyForQuery('I');
        assertEquals(true, settings().contains("kept"), settings());
    }

    @Test
    void pipelinedSetAfterAFailedSyncIsKept() {
        ledger.failed(); // first Sync's cycle: SELECT 1/0
        ledger.readyForQuery('I');
        execute("SET search_path TO after_error"); // second Sync's cycle succeeds
        ledger.readyForQuery('I');
        assertEquals(true, settings().contains("after_error"), settings());
    }

    @Test
    void setBehindAFailureInTheSameImplicitTransactionIsDropped() {
        Classification c = classifier.classify("SET search_path TO x; SELECT 1/0");
        ledger.completed(c, true, false, false); // the SET completes, then the SELECT fails
        ledger.failed();
        ledger.readyForQuery('I');
        assertEquals(false, settings().contains("search_path"), settings());
    }

    @Test
    void onlyStatementsThatCompletedCount() {
        Classification c = classifier.classify("SELECT 1/0; SET search_path TO never_ran");
        ledger.failed(); // the first statement fails: the SET never runs and sends no CommandComplete
        ledger.readyForQuery('I');
        assertEquals(false, settings().contains("never_ran"), settings() + c);
    }

    @Test
    void resetOfAStartupParameterNeedsTheClientsValueRestored() {
        execute("SET datestyle TO iso");
        assertNull(ledger.readyForQuery('I'), "a plain SET leaves the server as the client expects");
        execute("RESET datestyle");
        assertEquals(true, ledger.hidesReport("DateStyle"), "the server's default is not what the client would see");
        assertEquals(false, ledger.hidesReport("TimeZone"));
        assertEquals("SELECT pg_catalog.set_config(E'datestyle', E'Postgres, MDY', false);",
                ledger.readyForQuery('I'));
        assertEquals(false, ledger.hidesReport("DateStyle"));
    }

    @Test
    void resetAllRestoresEveryStartupParameter() {
        execute("SET datestyle TO iso");
        ledger.readyForQuery('I');
        execute("RESET ALL");
        assertEquals("SELECT pg_catalog.set_config(E'datestyle', E'Postgres, MDY', false);",
                ledger.readyForQuery('I'));
    }

    @Test
    void resetInsideATransactionIsRestoredThereAndOnlyOnce() {
        execute("BEGIN");
        execute("RESET datestyle");
        assertNotNull(ledger.readyForQuery('T'), "restored inside the transaction, as RESET would leave it direct");
        assertNull(ledger.readyForQuery('T'), "already restored");
        execute("COMMIT");
        assertNull(ledger.readyForQuery('I'), "the restore committed with the RESET");
    }

    @Test
    void aRestoreRolledBackWithACommittedResetIsRedone() {
        Classification c = classifier.classify("RESET datestyle; COMMIT; BEGIN");
        ledger.completed(c, true, false, false);
        ledger.completed(c, true, false, true); // COMMIT ends the implicit transaction: the RESET stands
        ledger.completed(c, true, false, false);
        ledger.readyForQuery('T'); // restored inside the new transaction, then that transaction rolls back
        execute("ROLLBACK");
        assertNotNull(ledger.readyForQuery('I'), "the autocommit RESET stands; its restore was rolled back");
    }

    @Test
    void aSetRecordsTheValueTheServerReportedForIt() {
        execute("SET datestyle TO 'ISO'");
        ledger.reported("DateStyle", "ISO, DMY"); // the server kept the DMY of the value before
        ledger.readyForQuery('I');
        assertEquals(true, settings().contains("SET datestyle TO E'ISO, DMY'"), settings());
    }

    @Test
    void aReportedValueKeepsAReadOnlySessionReadOnly() {
        execute("SET default_transaction_read_only = on");
        ledger.reported("default_transaction_read_only", "on"); // reported since PostgreSQL 14
        ledger.readyForQuery('I');
        assertEquals(true, ledger.settings().readOnly(), settings());
        execute("SET default_transaction_read_only = off");
        ledger.reported("default_transaction_read_only", "off");
        ledger.readyForQuery('I');
        assertEquals(false, ledger.settings().readOnly(), settings());
    }

    @Test
    void unquoteReadsEveryLiteralFormItProduces() {
        assertEquals("on", SessionSettings.unquote("on"));
        assertEquals("it's", SessionSettings.unquote("'it''s'"));
        assertEquals("a\\b's", SessionSettings.unquote(SessionSettings.literal("a\\b's")));
    }

    @Test
    void rolledBackResetNeedsNoRestore() {
        execute("BEGIN");
        execute("RESET datestyle");
        execute("ROLLBACK");
        assertNull(ledger.readyForQuery('I'));
    }
}

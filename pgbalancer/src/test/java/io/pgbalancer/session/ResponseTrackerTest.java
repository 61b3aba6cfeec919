// purpose: ResponseTracker keeps owed answers in FIFO order, skips to Sync after errors, and Expect maps completions
package io.pgbalancer.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ResponseTrackerTest {
    private static final int[] ALL_KINDS = {Expect.PARSE, Expect.PARSE_HIDDEN, Expect.BIND, Expect.DESCRIBE,
        Expect.EXECUTE, Expect.CLOSE, Expect.SYNC, Expect.QUERY, Expect.INTERNAL, Expect.FAKE_PARSE_COMPLETE,
        Expect.FAKE_CLOSE_COMPLETE};

    /** Pops everything, returning the kinds in order. */
    private static List<Integer> drain(ResponseTracker t) {
        List<Integer> kinds = new ArrayList<>();
        while (!t.isEmpty()) {
            kinds.add(t.headKind());
            t.pop();
        }
        return kinds;
    }

    @Test
    void emptyTracker() {
        ResponseTracker t = new ResponseTracker();
        assertTrue(t.isEmpty());
        assertEquals(0, t.size());
        assertEquals(0, t.headKind());
        assertNull(t.headTag());
        assertFalse(t.isDiscarding());
        assertEquals(0, t.popThroughReadyForQuery());
    }

    @Test
    void entriesComeOutInOrderWithTheirTags() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE, "pgbalancer_1");
        t.add(Expect.BIND);
        t.add(Expect.DESCRIBE);
        t.add(Expect.EXECUTE);
        t.add(Expect.SYNC);
        assertEquals(5, t.size());
        assertEquals(Expect.PARSE, t.headKind());
        assertEquals("pgbalancer_1", t.headTag());
        t.pop();
        assertEquals(Expect.BIND, t.headKind());
        assertNull(t.headTag(), "tags do not leak to the next entry");
        assertEquals(List.of(Expect.BIND, Expect.DESCRIBE, Expect.EXECUTE, Expect.SYNC), drain(t));
        assertTrue(t.isEmpty());
    }

    @Test
    void popThroughReadyForQueryStopsAfterTheSyncOrQuery() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE);
        t.add(Expect.BIND);
        t.add(Expect.EXECUTE);
        t.add(Expect.SYNC);
        t.add(Expect.QUERY);
        t.add(Expect.INTERNAL);
        t.add(Expect.BIND);
        assertEquals(Expect.SYNC, t.popThroughReadyForQuery());
        assertEquals(3, t.size());
        assertEquals(Expect.QUERY, t.popThroughReadyForQuery());
        assertEquals(Expect.INTERNAL, t.popThroughReadyForQuery());
        assertEquals(List.of(Expect.BIND), drain(t));
    }

    @Test
    void popThroughReadyForQueryWithoutSyncEmptiesTheTracker() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE);
        t.add(Expect.BIND);
        assertEquals(0, t.popThroughReadyForQuery());
        assertTrue(t.isEmpty());
    }

    @Test
    void skipToSyncDropsEverythingBeforeTheNextSync() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE, "a");
        t.add(Expect.BIND);
        t.add(Expect.FAKE_PARSE_COMPLETE);
        t.add(Expect.EXECUTE);
        t.add(Expect.SYNC);
        t.add(Expect.PARSE, "b");
        t.add(Expect.SYNC);
        t.skipToSync();
        assertFalse(t.isDiscarding());
        assertEquals(Expect.SYNC, t.headKind());
        assertEquals(List.of(Expect.SYNC, Expect.PARSE, Expect.SYNC), drain(t));
    }

    @Test
    void skipToSyncSkipsASimpleQueryToo() {
        // PostgreSQL discards a simple Query (or FunctionCall) pipelined after the failed message like anything else
        // until Sync (checked against PostgreSQL 15: Parse with a syntax error, Query, Sync are answered E, Z); found
        // by fuzzing: waiting for the Query's answers kept the session, after a Terminate, forever
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.EXECUTE);
        t.add(Expect.QUERY);
        t.add(Expect.SYNC);
        t.skipToSync();
        assertFalse(t.isDiscarding());
        assertEquals(List.of(Expect.SYNC), drain(t));
        t.add(Expect.EXECUTE);
        t.add(Expect.QUERY);
        t.skipToSync();
        assertTrue(t.isDiscarding(), "no Sync sent yet");
        assertTrue(t.isEmpty());
    }

    @Test
    void skipToSyncAtASyncKeepsIt() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.SYNC);
        t.add(Expect.BIND);
        t.skipToSync();
        assertEquals(List.of(Expect.SYNC, Expect.BIND), drain(t));
    }

    @Test
    void withoutQueuedSyncTheTrackerDiscardsUntilOneIsAdded() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE);
        t.add(Expect.BIND);
        t.add(Expect.EXECUTE); // e.g. followed by Flush, no Sync yet
        t.skipToSync();
        assertTrue(t.isEmpty());
        assertTrue(t.isDiscarding());
        for (int kind : ALL_KINDS) {
            if (kind != Expect.SYNC) {
                t.add(kind, "ignored");
                assertTrue(t.isEmpty(), "kind " + kind + " added while discarding");
                assertTrue(t.isDiscarding());
            }
        }
        t.add(Expect.SYNC, "sync");
        assertFalse(t.isDiscarding());
        assertEquals(1, t.size());
        assertEquals("sync", t.headTag());
        t.add(Expect.PARSE);
        assertEquals(List.of(Expect.SYNC, Expect.PARSE), drain(t));
    }

    @Test
    void skipToSyncOnAnEmptyTrackerDiscards() {
        ResponseTracker t = new ResponseTracker();
        t.skipToSync();
        assertTrue(t.isDiscarding());
        t.add(Expect.EXECUTE);
        assertTrue(t.isEmpty());
        t.add(Expect.SYNC);
        assertEquals(1, t.size());
    }

    @Test
    void clearEmptiesAndStopsDiscarding() {
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE, "x");
        t.add(Expect.SYNC);
        t.clear();
        assertTrue(t.isEmpty());
        assertNull(t.headTag());
        t.skipToSync();
        assertTrue(t.isDiscarding());
        t.clear();
        assertFalse(t.isDiscarding());
        t.add(Expect.BIND);
        assertEquals(1, t.size());
    }

    @Test
    void growthKeepsFifoOrder() {
        ResponseTracker t = new ResponseTracker();
        for (int i = 0; i < 1000; i++) {
            t.add(ALL_KINDS[i % ALL_KINDS.length], i);
        }
        assertEquals(1000, t.size());
        for (int i = 0; i < 1000; i++) {
            assertEquals(ALL_KINDS[i % ALL_KINDS.length], t.headKind(), "kind of entry " + i);
            assertEquals(i, t.headTag(), "tag of entry " + i);
            t.pop();
        }
        assertTrue(t.isEmpty());
    }

    @Test
    void growthWhileWrappedAroundKeepsFifoOrder() {
        ResponseTracker t = new ResponseTracker();
        int next = 0;
        int expected = 0;
        for (int i = 0; i < 13; i++) {
            t.add(Expect.BIND, next++);
        }
        for (int i = 0; i < 11; i++) {
            assertEquals(expected++, t.headTag());
            t.pop();
        }
        // head is at 11 of 16: these wrap around, then force growth twice
        for (int i = 0; i < 40; i++) {
            t.add(Expect.EXECUTE, next++);
        }
        assertEquals(42, t.size());
        while (!t.isEmpty()) {
            assertEquals(expected++, t.headTag());
            t.pop();
        }
        assertEquals(next, expected);
    }

    /** Random operations against a straightforward model. */
    @Test
    void matchesAModelUnderRandomOperations() {
        for (int seed = 0; seed < 100; seed++) {
            Random r = new Random(seed);
            ResponseTracker t = new ResponseTracker();
            ArrayDeque<int[]> model = new ArrayDeque<>();
            boolean discarding = false;
            int tag = 0;
            for (int step = 0; step < 2000; step++) {
                int op = r.nextInt(10);
                if (op < 6) {
                    int kind = ALL_KINDS[r.nextInt(ALL_KINDS.length)];
                    t.add(kind, tag);
                    if (discarding && kind == Expect.SYNC) {
                        discarding = false;
                    }
                    if (!discarding) {
                        model.add(new int[] {kind, tag});
                    }
                    tag++;
                } else if (op < 8) {
                    if (!model.isEmpty()) {
                        t.pop();
                        model.poll();
                    }
                } else if (op == 8) {
                    int got = t.popThroughReadyForQuery();
                    int want = 0;
                    while (!model.isEmpty()) {
                        int k = model.poll()[0];
                        if (Expect.endsAtReadyForQuery(k)) {
                            want = k;
                            break;
                        }
                    }
                    assertEquals(want, got, "seed " + seed + " step " + step);
                } else {
                    t.skipToSync();
                    while (!model.isEmpty() && (!Expect.endsAtReadyForQuery(model.peek()[0])
                            || model.peek()[0] == Expect.QUERY)) { // the server discards a Query until Sync too
                        model.poll();
                    }
                    if (model.isEmpty()) {
                        discarding = true;
                    }
                }
                assertEquals(model.size(), t.size(), "seed " + seed + " step " + step);
                assertEquals(discarding, t.isDiscarding(), "seed " + seed + " step " + step);
                assertEquals(model.isEmpty() ? 0 : model.peek()[0], t.headKind(), "seed " + seed + " step " + step);
                assertEquals(model.isEmpty() ? null : model.peek()[1], t.headTag(), "seed " + seed + " step " + step);
            }
        }
    }

    // ---- Expect ----

    private static final byte[] BACKEND_TYPES = "RSKZTDCENA123nsItGHWdcVv".getBytes(
            java.nio.charset.StandardCharsets.US_ASCII);

    private static void assertCompletedBy(int kind, String types) {
        for (byte type : BACKEND_TYPES) {
            assertEquals(types.indexOf(type) >= 0, Expect.completes(kind, io.pgbalancer.protocol.BackendMessage.of(type)),
                    "completes(" + kind + ", '" + (char) type + "')");
        }
    }

    @Test
    void completesMapsEachKindToItsFinalAnswer() {
        assertCompletedBy(Expect.PARSE, "1");
        assertCompletedBy(Expect.PARSE_HIDDEN, "1");
        assertCompletedBy(Expect.BIND, "2");
        assertCompletedBy(Expect.CLOSE, "3");
        assertCompletedBy(Expect.DESCRIBE, "Tn"); // statement: 't' then 'T'/'n'; portal: 'T'/'n'
        assertCompletedBy(Expect.EXECUTE, "CsI");
        // these end at ReadyForQuery, which the tracker handles separately; fakes have no backend answer
        assertCompletedBy(Expect.SYNC, "");
        assertCompletedBy(Expect.QUERY, "");
        assertCompletedBy(Expect.INTERNAL, "");
        assertCompletedBy(Expect.FAKE_PARSE_COMPLETE, "");
        assertCompletedBy(Expect.FAKE_CLOSE_COMPLETE, "");
        assertCompletedBy(0, "");
    }

    @Test
    void describeOfAStatementIsNotCompletedByItsParameterDescription() {
        assertFalse(Expect.completes(Expect.DESCRIBE, io.pgbalancer.protocol.BackendMessage.of((byte) 't')));
    }

    @Test
    void executeIsNotCompletedByRowsOrCopyStart() {
        for (char c : new char[] {'D', 'T', 'G', 'H', 'W', 'd', 'c', 'N', 'E'}) {
            assertFalse(Expect.completes(Expect.EXECUTE, io.pgbalancer.protocol.BackendMessage.of((byte) c)), String.valueOf(c));
        }
    }

    @Test
    void endsAtReadyForQueryAndIsFake() {
        for (int kind : ALL_KINDS) {
            boolean rfq = kind == Expect.SYNC || kind == Expect.QUERY || kind == Expect.INTERNAL;
            boolean fake = kind == Expect.FAKE_PARSE_COMPLETE || kind == Expect.FAKE_CLOSE_COMPLETE;
            assertEquals(rfq, Expect.endsAtReadyForQuery(kind), "endsAtReadyForQuery(" + kind + ")");
            assertEquals(fake, Expect.isFake(kind), "isFake(" + kind + ")");
        }
    }

    @Test
    void kindsAreDistinctAndNonZero() {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int kind : ALL_KINDS) {
            assertTrue(kind != 0, "0 means 'nothing owed'");
            assertTrue(seen.add(kind), "duplicate kind " + kind);
        }
    }

    /** A tag that logs what it is told, e.g. "a+1" (answered) or "s-1" (skipped). */
    private record LoggingTag(String name, List<String> log, boolean changesClientView)
            implements ResponseTracker.Tag {
        @Override
        public void answered() {
            log.add("answered " + name);
        }

        @Override
        public void skipped() {
            log.add("skipped " + name);
        }
    }

    @Test
    void tagsAreToldWhetherTheirMessageWasAnsweredOrSkippedNewestFirst() {
        List<String> log = new ArrayList<>();
        ResponseTracker t = new ResponseTracker();
        t.add(Expect.PARSE, new LoggingTag("parse1", log, true));
        t.add(Expect.FAKE_CLOSE_COMPLETE, new LoggingTag("close", log, true));
        t.add(Expect.BIND);
        t.add(Expect.PARSE_HIDDEN, new LoggingTag("hidden", log, false));
        t.add(Expect.PARSE, new LoggingTag("parse2", log, true));
        t.add(Expect.SYNC);
        t.add(Expect.PARSE, new LoggingTag("next-cycle", log, true));
        assertEquals(4, t.clientViewChanges());
        t.pop(); // ParseComplete of parse1
        assertEquals(List.of("answered parse1"), log);
        assertEquals(3, t.clientViewChanges());
        t.skipToSync(); // the Close's turn never came: an error arrived first
        assertEquals(List.of("answered parse1", "skipped parse2", "skipped hidden", "skipped close"), log,
                "undone newest first, so a Close then a Parse of one name unwind in order");
        assertEquals(1, t.clientViewChanges(), "the next cycle's Parse is still owed");
        assertEquals(Expect.SYNC, t.popThroughReadyForQuery());
        t.clear();
        assertEquals(0, t.clientViewChanges());
        assertEquals(4, log.size(), "clear tells nobody: the backend is gone and the caller settles the books");
    }

    @Test
    void aTagAddedWhileDiscardingIsSkippedAtOnce() {
        List<String> log = new ArrayList<>();
        ResponseTracker t = new ResponseTracker();
        t.skipToSync();
        assertTrue(t.isDiscarding());
        t.add(Expect.FAKE_PARSE_COMPLETE, new LoggingTag("late", log, true));
        assertEquals(List.of("skipped late"), log);
        assertTrue(t.isEmpty());
        assertEquals(0, t.clientViewChanges());
    }

    @Test
    void recycledTrackersStartEmptyAndKeepFifoOrder() {
        ResponseTracker a = new ResponseTracker();
        a.recycle(); // nothing allocated yet: no-op
        for (int round = 0; round < 3; round++) {
            // wrap the ring around, then grow it, then leave it empty and give its arrays away
            for (int i = 0; i < 10; i++) {
                a.add(Expect.BIND);
                a.pop();
            }
            List<Integer> want = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int kind = ALL_KINDS[i % ALL_KINDS.length];
                a.add(kind, "tag" + i);
                want.add(kind);
            }
            assertEquals("tag0", a.headTag());
            assertEquals(want, drain(a));
            a.recycle();
            assertTrue(a.isEmpty());
            assertEquals(0, a.headKind());
            assertNull(a.headTag());
        }
        ResponseTracker b = new ResponseTracker();
        b.add(Expect.QUERY, "q");
        b.recycle(); // something is owed: keeps its entries
        assertEquals(Expect.QUERY, b.headKind());
        assertEquals("q", b.headTag());
        b.pop();
        b.recycle();
        // a tracker that takes recycled arrays sees no stale entry
        ResponseTracker c = new ResponseTracker();
        c.add(Expect.SYNC);
        assertNull(c.headTag());
        assertEquals(List.of(Expect.SYNC), drain(c));
        c.recycle();
    }
}

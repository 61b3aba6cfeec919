// The answer to one admin console command: a result set, a bare completion, or an error.
package io.pgbalancer.admin;

import java.util.List;

public sealed interface AdminReply {
    /** A table, completed with the tag "SHOW" as PgBouncer does; every value is text (null is SQL NULL). */
    record Rows(List<String> columns, List<List<String>> rows) implements AdminReply {
        public Rows {
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
        }
    }

    /** No rows, only CommandComplete with {@code tag} (e.g. "BAN"). */
    record Done(String tag) implements AdminReply {
    }

    /** A reply that comes later (PAUSE waits for running transactions); the rest of the query string waits too. */
    record Later(io.netty.util.concurrent.Future<AdminReply> reply) implements AdminReply {
    }

    /** ErrorResponse with severity ERROR: the rest of the query string is not run. */
    record Failed(String sqlState, String message) implements AdminReply {
    }
}

// A parsed SET, SHOW or RESET of a pgbalancer.* parameter, which pgbalancer answers itself, and what running it does.
package io.pgbalancer.causal;

import java.util.function.LongSupplier;

/**
 * One virtual statement. {@link #parse} tells virtual texts from the rest (grammar in {@link ProxyStatementParser});
 * a text that is virtual but wrong is an {@link Kind#INVALID} statement carrying the error to answer.
 *
 * @param kind  what it does
 * @param name  the lower-case parameter name ({@code pgbalancer.min_lsn}); null when INVALID
 * @param value for SET, the value with quotes removed; null for {@code SET ... TO DEFAULT} and the other kinds
 * @param error for INVALID, the error to answer; null otherwise
 */
public record ProxyStatement(Kind kind, String name, String value, ProxyError error) {
    /** What a virtual statement does. */
    public enum Kind {
        SHOW,
        SET,
        RESET,
        /** Recognisably about pgbalancer.* but unusable (syntax, SET LOCAL, mixed with other statements). */
        INVALID
    }

    /**
     * The virtual statement {@code sql} is, or null when it is not a SET, SHOW or RESET of a pgbalancer.* parameter
     * (then it belongs to the server).
     */
    public static ProxyStatement parse(String sql) {
        return ProxyStatementParser.parse(sql);
    }

    static ProxyStatement invalid(ProxyError error) {
        return new ProxyStatement(Kind.INVALID, null, null, error);
    }

    /** The CommandComplete tag: {@code SHOW}, {@code SET} (also for SET ... TO DEFAULT) or {@code RESET}. */
    public String tag() {
        return kind.name();
    }

    /** Whether it returns a row (SHOW), so Describe answers RowDescription rather than NoData. */
    public boolean returnsRow() {
        return kind == Kind.SHOW;
    }

    /** The parameter it is about; the error to answer when INVALID or the name is unknown (42704). */
    public ProxyParameter parameter() {
        if (error != null) {
            throw error;
        }
        return ProxyParameter.named(name);
    }

    /**
     * Runs it on the session's settings: returns the value for SHOW, null for SET and RESET.
     *
     * @throws ProxyError what PostgreSQL would answer: unknown name, read-only parameter, bad value
     */
    public String run(ProxySettings settings, LongSupplier commitLsn) {
        ProxyParameter p = parameter();
        switch (kind) {
            case SHOW -> {
                return p.show(settings, commitLsn);
            }
            case SET -> {
                if (value == null) {
                    p.reset(settings);
                } else {
                    p.set(settings, value);
                }
            }
            case RESET -> p.reset(settings);
            default -> throw new IllegalStateException(kind.name());
        }
        return null;
    }
}

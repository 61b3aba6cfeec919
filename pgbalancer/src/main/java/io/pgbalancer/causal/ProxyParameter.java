// The pgbalancer.* parameters a session can SHOW, SET and RESET: their names, values and how each is read and written.
package io.pgbalancer.causal;

import io.pgbalancer.sql.StalenessParser;
import java.util.function.LongSupplier;

/**
 * <ul>
 *   <li>{@code pgbalancer.commit_lsn}: read-only, the WAL position of the session's latest commit, as pg_lsn prints it
 *       ({@code 0/0} before any).</li>
 *   <li>{@code pgbalancer.min_lsn}: reads wait for a replica at or past this position; a pg_lsn such as
 *       {@code '0/16B3740'}; RESET or DEFAULT is none, shown as {@code 0/0}.</li>
 *   <li>{@code pgbalancer.max_staleness}: reads go only to a replica at most this far behind; a duration in the units of
 *       PostgreSQL's time settings (see {@link StalenessParser}; a bare number is milliseconds), shown in the largest
 *       exact unit ({@code 500ms}, {@code 2s}). {@code 0} allows no staleness at all. {@code -1}, RESET and DEFAULT
 *       mean unbounded, shown as {@code -1}, as PostgreSQL shows its disabled time settings (for instance
 *       log_min_duration_statement).</li>
 * </ul>
 * Values are checked when set: a bad one is SQLSTATE 22023 with PostgreSQL's wording.
 */
public enum ProxyParameter {
    COMMIT_LSN("pgbalancer.commit_lsn") {
        @Override
        String show(ProxySettings settings, LongSupplier commitLsn) {
            return Lsn.format(commitLsn.getAsLong());
        }

        @Override
        void set(ProxySettings settings, String value) {
            throw readOnly();
        }

        @Override
        void reset(ProxySettings settings) {
            throw readOnly();
        }
    },
    MIN_LSN("pgbalancer.min_lsn") {
        @Override
        String show(ProxySettings settings, LongSupplier commitLsn) {
            return Lsn.format(settings.minLsn());
        }

        @Override
        void set(ProxySettings settings, String value) {
            try {
                settings.minLsn(Lsn.parse(value.strip()));
            } catch (IllegalArgumentException e) {
                throw invalidValue(value, "Expected a WAL position: two hexadecimal numbers separated by a slash, such as"
                        + " 0/16B3740, as pg_current_wal_lsn() returns.");
            }
        }

        @Override
        void reset(ProxySettings settings) {
            settings.minLsn(Lsn.NONE);
        }
    },
    MAX_STALENESS("pgbalancer.max_staleness") {
        @Override
        String show(ProxySettings settings, LongSupplier commitLsn) {
            return StalenessParser.format(settings.maxStalenessNanos());
        }

        @Override
        void set(ProxySettings settings, String value) {
            if (value.strip().equals("-1")) {
                settings.maxStalenessNanos(ProxySettings.UNBOUNDED);
                return;
            }
            try {
                settings.maxStalenessNanos(StalenessParser.parseNanos(value));
            } catch (IllegalArgumentException e) {
                throw invalidValue(value, StalenessParser.UNITS_HINT + " Use -1 for no bound.");
            }
        }

        @Override
        void reset(ProxySettings settings) {
            settings.maxStalenessNanos(ProxySettings.UNBOUNDED);
        }
    };

    /** The prefix every pgbalancer parameter name starts with. */
    public static final String PREFIX = "pgbalancer.";

    private final String name;

    ProxyParameter(String name) {
        this.name = name;
    }

    /** The lower-case name, as SHOW names its column. */
    public String parameterName() {
        return name;
    }

    /** The parameter called {@code name} (already lower-case). */
    public static ProxyParameter named(String name) {
        for (ProxyParameter p : values()) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        throw new ProxyError("42704", "unrecognized configuration parameter \"" + name + "\"");
    }

    /** The value as SHOW prints it. */
    abstract String show(ProxySettings settings, LongSupplier commitLsn);

    /** Sets the value from its text (quotes already removed). */
    abstract void set(ProxySettings settings, String value);

    /** Back to the default (RESET, or SET ... TO DEFAULT). */
    abstract void reset(ProxySettings settings);

    ProxyError readOnly() {
        return new ProxyError("55P02", "parameter \"" + name + "\" cannot be changed");
    }

    ProxyError invalidValue(String value, String hint) {
        return new ProxyError("22023", "invalid value for parameter \"" + name + "\": \"" + value + "\"", null, hint);
    }
}

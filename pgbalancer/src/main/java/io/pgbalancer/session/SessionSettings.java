// The settings a client expects on whichever backend serves it: its startup parameters plus its successful SETs.
package io.pgbalancer.session;

import io.pgbalancer.sql.SessionSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Immutable. Each setting maps a lower-cased parameter name to the SQL statement that establishes it on a backend,
 * so two snapshots compare equal exactly when replaying them would do the same thing. Backends start with only user
 * and database, so a name a backend has but the client does not is put back with RESET.
 */
public final class SessionSettings {
    /** Startup parameters that are not settings. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("user", "database", "options",
            "replication");

    private static final String READ_ONLY = "default_transaction_read_only";

    private final Map<String, String> startup;
    private final Map<String, String> current;
    private final boolean startupReadOnly;
    private final boolean readOnly;

    /** Equal settings share one instance, so the per-checkout comparison is usually a reference check. */
    private static final java.util.concurrent.ConcurrentHashMap<Map<String, String>, SessionSettings> INTERNED =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_INTERNED = 10_000;

    private SessionSettings(Map<String, String> startup, Map<String, String> current, boolean startupReadOnly,
                            boolean readOnly) {
        this.startup = startup;
        this.current = current;
        this.startupReadOnly = startupReadOnly;
        this.readOnly = readOnly;
    }

    private static SessionSettings of(Map<String, String> startup, Map<String, String> current,
                                      boolean startupReadOnly, boolean readOnly) {
        SessionSettings fresh = new SessionSettings(startup, current, startupReadOnly, readOnly);
        if (!startup.equals(current) || INTERNED.size() >= MAX_INTERNED) {
            return fresh;
        }
        SessionSettings prior = INTERNED.putIfAbsent(current, fresh);
        return prior != null ? prior : fresh;
    }

    public static final SessionSettings NONE = new SessionSettings(Map.of(), Map.of(), false, false);

    /** From a StartupMessage's parameters, including {@code -c name=value} items of {@code options}. */
    public static SessionSettings fromStartup(Map<String, String> parameters) {
        Map<String, String> map = new HashMap<>();
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!NOT_SETTINGS.contains(name)) {
                map.put(name, setConfig(name, e.getValue()));
            }
        }
        String options = parameters.get("options");
        if (options != null) {
            StartupOptions.parse(options).forEach((k, v) -> map.put(k, setConfig(k, v)));
        }
        Map<String, String> frozen = Map.copyOf(map);
        boolean readOnly = isOn(parameters.entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase(READ_ONLY)).map(Map.Entry::getValue).findFirst()
                .orElse(options == null ? null : StartupOptions.parse(options).get(READ_ONLY)));
        return of(frozen, frozen, readOnly, readOnly);
    }

    private static String setConfig(String name, String value) {
        return "SELECT pg_catalog.set_config(" + literal(name) + ", " + literal(value) + ", false)";
    }

    /** An E'' literal reads the same whatever the backend's standard_conforming_strings is. */
    static String literal(String s) {
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** The settings after the given SET/RESET statements succeeded. */
    public SessionSettings apply(List<SessionSet> sets) {
        if (sets.isEmpty()) {
            return this;
        }
        Map<String, String> map = new HashMap<>(current);
        boolean ro = readOnly;
        for (SessionSet set : sets) {
            if (set.kind() == SessionSet.Kind.RESET_ALL || READ_ONLY.equals(set.name())) {
                ro = set.kind() == SessionSet.Kind.SET ? isOn(unquote(set.valueSql())) : startupReadOnly;
            }
            switch (set.kind()) {
                case RESET_ALL -> {
                    map.clear();
                    map.putAll(startup);
                }
                case RESET, RESTORE -> {
                    // RESET goes back to the session default, which for a startup parameter is its startup value
                    String initial = startup.get(set.name());
                    if (initial != null) {
                        map.put(set.name(), initial);
                    } else {
                        map.remove(set.name());
                    }
                }
                case SET -> map.put(set.name(), "SET " + quoteName(set.name()) + " TO " + set.valueSql());
                default -> {
                    // savepoint steps decide which changes reach this point; they change nothing themselves
                }
            }
        }
        return of(startup, Map.copyOf(map), startupReadOnly, ro);
    }

    /**
     * The startup parameters that a server running {@code changes} (in order) is left holding at its own default: a
     * RESET there returns to the server's default, not to the client's startup value, because a pooled backend was
     * started without the client's parameters. Null when there are none.
     */
    public java.util.Set<String> leftAtServerDefault(Iterable<SessionSet> changes) {
        java.util.Set<String> names = null;
        for (SessionSet set : changes) {
            switch (set.kind()) {
                case RESET_ALL -> names = startup.isEmpty() ? names : new java.util.HashSet<>(startup.keySet());
                case RESET -> {
                    if (startup.containsKey(set.name())) {
                        names = names == null ? new java.util.HashSet<>() : names;
                        names.add(set.name());
                    }
                }
                case SET, RESTORE -> {
                    if (names != null) {
                        names.remove(set.name());
                    }
                }
                default -> {
                }
            }
        }
        return names == null || names.isEmpty() ? null : names;
    }

    /** SQL that puts the client's startup values of {@code names} back, inside or outside a transaction. */
    public String restoreSql(java.util.Set<String> names) {
        StringBuilder sql = new StringBuilder();
        for (String name : names) {
            sql.append(startup.get(name)).append(';');
        }
        return sql.toString();
    }

    /** default_transaction_read_only is on: every transaction of the session may run on a replica. */
    public boolean readOnly() {
        return readOnly;
    }

    private static boolean isOn(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        return v.equals("on") || v.equals("true") || v.equals("yes") || v.equals("1") || v.equals("t");
    }

    /** The value of a SET's value text: a bare word, a '' literal, or an E'' literal as {@link #literal} makes. */
    static String unquote(String sql) {
        String v = sql == null ? "" : sql.trim();
        boolean escaped = v.length() >= 3 && (v.charAt(0) == 'E' || v.charAt(0) == 'e') && v.charAt(1) == '\'';
        if (escaped) {
            v = v.substring(1);
        }
        if (v.length() < 2 || !v.startsWith("'") || !v.endsWith("'")) {
            return v;
        }
        v = v.substring(1, v.length() - 1).replace("''", "'");
        return escaped ? v.replace("\\\\", "\\") : v;
    }

    private static String quoteName(String name) {
        return name.matches("[a-z_][a-z0-9_.]*") ? name : '"' + name.replace("\"", "\"\"") + '"';
    }

    /** SQL that turns a backend holding {@code onBackend} into these settings, or null when nothing differs. */
    public String syncSql(SessionSettings onBackend) {
        if (onBackend == this || onBackend.current.equals(current)) {
            return null;
        }
        StringBuilder sql = new StringBuilder();
        for (String name : onBackend.current.keySet()) {
            if (!current.containsKey(name)) {
                sql.append("RESET ").append(quoteName(name)).append(';');
            }
        }
        for (Map.Entry<String, String> e : current.entrySet()) {
            if (!e.getValue().equals(onBackend.current.get(e.getKey()))) {
                sql.append(e.getValue()).append(';');
            }
        }
        return sql.toString();
    }

    public int size() {
        return current.size();
    }
}

// SHOW CONFIG: the effective configuration as (key, value) rows in YAML key names; passwords show as ***.
package io.pgbalancer.admin;

import io.pgbalancer.config.PgBalancerConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

final class ConfigView {
    static final List<String> COLUMNS = List.of("key", "value");
    static final String HIDDEN = "***";
    private static final Set<String> SECRET = Set.of("password");
    /** Not settings: warnings is what the loader noticed about the file. */
    private static final Set<String> SKIPPED = Set.of("warnings");

    private ConfigView() {
    }

    static AdminReply show(PgBalancerConfig config) {
        List<List<String>> rows = new ArrayList<>();
        walk("", config, rows);
        return new AdminReply.Rows(COLUMNS, rows);
    }

    private static void walk(String prefix, Record record, List<List<String>> rows) {
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            String name = snakeCase(c.getName());
            if (prefix.isEmpty() && SKIPPED.contains(name)) {
                continue;
            }
            String key = prefix.isEmpty() ? name : prefix + "." + name;
            Object value = read(c, record);
            if (SECRET.contains(name)) {
                rows.add(List.of(key, value == null ? "" : HIDDEN));
            } else {
                add(key, value, rows);
            }
        }
    }

    private static void add(String key, Object value, List<List<String>> rows) {
        if (value instanceof Record r) {
            walk(key, r, rows);
        } else if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Record) {
            for (int i = 0; i < list.size(); i++) {
                walk(key + "[" + i + "]", (Record) list.get(i), rows);
            }
        } else if (value instanceof List<?> list) {
            rows.add(List.of(key, String.join(", ", list.stream().map(ConfigView::text).toList())));
        } else {
            rows.add(List.of(key, text(value)));
        }
    }

    static String text(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof Duration d) {
            return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
        }
        if (value instanceof Enum<?> e) {
            try {
                return String.valueOf(e.getClass().getMethod("yamlName").invoke(e));
            } catch (ReflectiveOperationException ignored) {
                return e.name().toLowerCase(Locale.ROOT);
            }
        }
        return String.valueOf(value);
    }

    private static Object read(RecordComponent c, Record record) {
        Method accessor = c.getAccessor();
        try {
            return accessor.invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + c.getName(), e);
        }
    }

    static String snakeCase(String camel) {
        StringBuilder out = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                out.append('_').append(Character.toLowerCase(ch));
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }
}

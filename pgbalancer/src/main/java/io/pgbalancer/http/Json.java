// Just enough JSON for the probes' small bodies: flat objects of strings, numbers and booleans.
package io.pgbalancer.http;

final class Json {
    private Json() {
    }

    /** {@code keysAndValues}: name, value, name, value…; values are String, Number, Boolean or a raw Json.Raw. */
    static String object(Object... keysAndValues) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
            if (i > 0) {
                b.append(',');
            }
            quote(b, keysAndValues[i].toString()).append(':');
            Object v = keysAndValues[i + 1];
            if (v instanceof Number || v instanceof Boolean) {
                b.append(v);
            } else if (v instanceof Raw r) {
                b.append(r.json());
            } else if (v == null) {
                b.append("null");
            } else {
                quote(b, v.toString());
            }
        }
        return b.append('}').toString();
    }

    /** A JSON array of already encoded values. */
    static Raw array(java.util.List<String> encoded) {
        return new Raw("[" + String.join(",", encoded) + "]");
    }

    /** Already encoded JSON, placed as is. */
    record Raw(String json) {
    }

    private static StringBuilder quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}

// Parses the StartupMessage "options" parameter (-c name=value and --name=value, backslash escapes spaces).
package io.pgbalancer.session;

import io.pgbalancer.protocol.ProtocolException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

final class StartupOptions {
    private StartupOptions() {
    }

    static Map<String, String> parse(String options) {
        List<String> words = split(options);
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String item;
            if (w.equals("-c") && i + 1 < words.size()) {
                item = words.get(++i);
            } else if (w.startsWith("-c") && w.length() > 2) {
                item = w.substring(2);
            } else if (w.startsWith("--")) {
                item = w.substring(2);
            } else {
                throw new ProtocolException("22023", "invalid startup option \"" + w
                        + "\": pgbalancer accepts only -c name=value and --name=value in options");
            }
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new ProtocolException("22023", "invalid startup option \"" + item + "\": expected name=value");
            }
            out.put(item.substring(0, eq).replace('-', '_').toLowerCase(Locale.ROOT), item.substring(eq + 1));
        }
        return out;
    }

    private static List<String> split(String s) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                word.append(s.charAt(++i));
            } else if (Character.isWhitespace(c)) {
                if (word.length() > 0) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (word.length() > 0) {
            words.add(word.toString());
        }
        return words;
    }
}

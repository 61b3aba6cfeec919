// Chooses the log format before anything logs: PGBALANCER_LOG_FORMAT=json (one JSON object per line) or text.
package io.pgbalancer.cli;

import java.util.Locale;

final class LogFormat {
    static final String ENV = "PGBALANCER_LOG_FORMAT";

    private LogFormat() {
    }

    /**
     * Points Logback at logback-json.xml when the environment asks for JSON. Must run before the first logger is
     * created. Returns a warning for a value it does not know (text is used then), or null.
     */
    static String select(String value) {
        if (value == null || value.isBlank() || value.equalsIgnoreCase("text")) {
            return null;
        }
        if (value.toLowerCase(Locale.ROOT).equals("json")) {
            if (System.getProperty("logback.configurationFile") == null) {
                System.setProperty("logback.configurationFile", "logback-json.xml");
            }
            return null;
        }
        return ENV + "=" + value + " is not a log format (expected text or json); logging as text";
    }
}

// Splits an admin console query string into its commands: ';'-separated, trimmed, empty ones dropped.
package io.pgbalancer.admin;

import java.util.ArrayList;
import java.util.List;

final class AdminQuery {
    private AdminQuery() {
    }

    /** An empty list means the query held no command at all (answered with EmptyQueryResponse). */
    static List<String> split(String query) {
        List<String> commands = new ArrayList<>();
        for (String part : query.split(";", -1)) {
            String command = part.strip();
            if (!command.isEmpty()) {
                commands.add(command);
            }
        }
        return commands;
    }
}

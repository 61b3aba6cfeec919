// purpose: tests the "admin" section: default, valid users, and each problem's path and message
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.BACKENDS;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AdminConfigTest {
    private static final String TWO_USERS = "auth: {users: [{name: app, password: a}, {name: ops, password: o}]}\n"
            + BACKENDS;

    @Test
    void absentOrEmptySectionMeansNoAdmins() throws ConfigException {
        assertEquals(List.of(), parse(MINIMAL).admin().users());
        assertEquals(List.of(), parse(MINIMAL + "admin:\n").admin().users());
        assertEquals(List.of(), parse(MINIMAL + "admin: {users: []}\n").admin().users());
        assertFalse(parse(MINIMAL).admin().isAdmin("app"));
    }

    @Test
    void usersFromAuthAreAdmins() throws ConfigException {
        Admin admin = parse(TWO_USERS + "admin: {users: [ops, app]}\n").admin();
        assertEquals(List.of("ops", "app"), admin.users());
        assertTrue(admin.isAdmin("ops"));
        assertFalse(admin.isAdmin("OPS"));
    }

    @Test
    void unknownUserIsAProblemAtItsIndex() {
        assertEquals(List.of("admin.users[1]: unknown user \"x\": admin users must be listed in auth.users"),
                problems(TWO_USERS + "admin: {users: [ops, x]}\n"));
    }

    @Test
    void duplicateAndEmptyNamesAreProblems() {
        assertEquals(List.of("admin.users[1]: duplicate user \"app\" (same as admin.users[0])"),
                problems(TWO_USERS + "admin: {users: [app, app]}\n"));
        assertEquals(List.of("admin.users[0]: expected a non-empty string, got \"\""),
                problems(TWO_USERS + "admin: {users: [\"\"]}\n"));
    }

    @Test
    void wrongShapesAreProblems() {
        assertEquals(List.of("admin.users: expected a list of user names, got \"app\""),
                problems(TWO_USERS + "admin: {users: app}\n"));
        assertEquals(List.of("admin.user: unknown key (expected one of: users)"),
                problems(TWO_USERS + "admin: {user: [app]}\n"));
    }
}

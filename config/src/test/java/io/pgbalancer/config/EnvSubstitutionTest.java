// purpose: tests ${VAR}, ${VAR:-default} and $$ expansion, alone and through the loader
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.AUTH;
import static io.pgbalancer.config.ConfigAssertions.BACKENDS;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {
    private final EnvSubstitution env = new EnvSubstitution(Map.of("USER", "app", "EMPTY", "", "PORT", "5433"));

    private String expand(String text) {
        EnvSubstitution.Result result = env.expand(text);
        assertEquals(List.of(), result.errors());
        return result.value();
    }

    private List<String> errors(String text) {
        EnvSubstitution.Result result = env.expand(text);
        assertNull(result.value());
        return result.errors();
    }

    @Test
    void plainVariables() {
        assertEquals("app", expand("${USER}"));
        assertEquals("user=app port=5433", expand("user=${USER} port=${PORT}"));
        assertEquals("", expand("${EMPTY}"));
        assertEquals("no variables", expand("no variables"));
    }

    @Test
    void defaults() {
        assertEquals("app", expand("${USER:-fallback}"));
        assertEquals("fallback", expand("${MISSING:-fallback}"));
        assertEquals("fallback", expand("${EMPTY:-fallback}"));
        assertEquals("", expand("${MISSING:-}"));
        assertEquals("a:-b c", expand("${MISSING:-a:-b c}"));
    }

    @Test
    void dollarEscapesAndLoneDollars() {
        assertEquals("pa$word", expand("pa$$word"));
        assertEquals("${USER}", expand("$${USER}"));
        assertEquals("$app", expand("$$${USER}"));
        assertEquals("costs 5$ or $5", expand("costs 5$ or $5"));
        assertEquals("$", expand("$"));
    }

    @Test
    void substitutedValuesAreNotExpandedAgain() {
        EnvSubstitution nested = new EnvSubstitution(Map.of("A", "${B}", "B", "b"));
        assertEquals("${B}", nested.expand("${A}").value());
    }

    @Test
    void errors() {
        assertEquals(List.of("environment variable NOPE is not set"), errors("${NOPE}"));
        assertEquals(List.of("environment variable X is not set", "environment variable Y is not set"),
                errors("${X}:${Y}"));
        assertEquals(List.of("unterminated variable reference \"${USER\" (missing })"), errors("${USER"));
        assertEquals(List.of("invalid variable reference \"${}\" (expected ${NAME} or ${NAME:-default})"),
                errors("${}"));
        assertEquals(List.of("invalid variable reference \"${1X}\" (expected ${NAME} or ${NAME:-default})"),
                errors("${1X}"));
        assertEquals(List.of("invalid variable reference \"${A-b}\" (expected ${NAME} or ${NAME:-default})"),
                errors("${A-b}"));
    }

    @Test
    void substitutionAppliesToEveryStringValueInTheFile() throws ConfigException {
        PgBalancerConfig config = parse("""
                listen: {host: "${LISTEN_HOST:-0.0.0.0}", port: "${LISTEN_PORT}"}
                pool: {checkout_timeout: "${CHECKOUT:-2s}", mode: "${MODE}"}
                auth: {users: [{name: "${DB_USER}", password: "pa$$${DB_PASSWORD}"}]}
                backends: [{host: "${PG_HOST}", role: primary}]
                """, Map.of("LISTEN_PORT", "7000", "MODE", "session", "DB_USER", "app", "DB_PASSWORD", "s3cret",
                "PG_HOST", "db.internal"));
        assertEquals(new Listen("0.0.0.0", 7000), config.listen());
        assertEquals(java.time.Duration.ofSeconds(2), config.pool().checkoutTimeout());
        assertEquals(PoolMode.SESSION, config.pool().mode());
        assertEquals(new User("app", "pa$s3cret"), config.auth().users().get(0));
        assertEquals("db.internal", config.primary().host());
    }

    @Test
    void badSubstitutedValueShowsWhereItCameFrom() {
        assertEquals(List.of("listen.port: expected an integer between 1 and 65535, got \"abc\" (from ${PORT})"),
                problems(AUTH + BACKENDS + "listen: {port: \"${PORT}\"}\n", Map.of("PORT", "abc")));
    }

    @Test
    void everyMissingVariableIsReported() {
        assertEquals(List.of(
                        "auth.users[0].password: environment variable P1 is not set",
                        "auth.users[1].password: environment variable P2 is not set",
                        "backends[0].host: environment variable PG_HOST is not set"),
                problems("""
                        auth: {users: [{name: a, password: "${P1}"}, {name: b, password: "${P2}"}]}
                        backends: [{host: "${PG_HOST}", role: primary}]
                        """));
    }

    @Test
    void loaderUsesOnlyTheGivenEnvironment() {
        // PATH is set in any real process environment; the loader must not fall back to System.getenv().
        assertEquals(List.of("auth.users[0].password: environment variable PATH is not set"),
                problems(BACKENDS + "auth: {users: [{name: a, password: \"${PATH}\"}]}\n", Map.of()));
    }
}

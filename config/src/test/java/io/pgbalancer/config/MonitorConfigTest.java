// purpose: tests the "monitor" section: defaults, every key, the login defaulting from auth.users, each problem's place
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.BACKENDS;
import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.located;
import static io.pgbalancer.config.ConfigAssertions.parse;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MonitorConfigTest {
    /** Two users, so "the first one" is distinguishable from "some user". */
    private static final String TWO_USERS = "auth: {users: [{name: app, password: secret}, {name: report,"
            + " password: r3port}]}\n" + BACKENDS;
    private static final String KEYS = "interval, fast_interval, connect_timeout, query_timeout, user, password,"
            + " database";

    @Test
    void absentSectionMeansDefaultsAndTheFirstUsersLogin() throws ConfigException {
        Monitor monitor = parse(TWO_USERS).monitor();
        assertEquals(new Monitor(Duration.ofSeconds(1), Duration.ofMillis(1), Duration.ofSeconds(2),
                Duration.ofSeconds(2), "app", "secret", "postgres"), monitor);
    }

    @Test
    void defaultsMatchTheConstants() {
        assertEquals(Duration.ofSeconds(1), Monitor.DEFAULT_INTERVAL);
        assertEquals(Duration.ofMillis(1), Monitor.DEFAULT_FAST_INTERVAL);
        assertEquals(Duration.ofSeconds(2), Monitor.DEFAULT_CONNECT_TIMEOUT);
        assertEquals(Duration.ofSeconds(2), Monitor.DEFAULT_QUERY_TIMEOUT);
        assertEquals("postgres", Monitor.DEFAULT_DATABASE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"monitor:\n", "monitor: {}\n", "monitor: ~\n", "monitor:\n  # interval: 5s\n"})
    void emptyOrNullSectionMeansDefaults(String section) throws ConfigException {
        assertEquals(parse(TWO_USERS).monitor(), parse(TWO_USERS + section).monitor());
    }

    @Test
    void everyKeySetExplicitly() throws ConfigException {
        Monitor monitor = parse(TWO_USERS + """
                monitor:
                  interval: 500ms
                  fast_interval: 2ms
                  connect_timeout: 3s
                  query_timeout: 1m
                  user: watcher
                  password: "${MONITOR_PASSWORD}"
                  database: ops
                """, Map.of("MONITOR_PASSWORD", "w4tch")).monitor();
        assertEquals(new Monitor(Duration.ofMillis(500), Duration.ofMillis(2), Duration.ofSeconds(3),
                Duration.ofMinutes(1), "watcher", "w4tch", "ops"), monitor);
        assertEquals(Duration.ofMillis(500), monitor.interval());
        assertEquals(Duration.ofMillis(2), monitor.fastInterval());
        assertEquals(Duration.ofSeconds(3), monitor.connectTimeout());
        assertEquals(Duration.ofMinutes(1), monitor.queryTimeout());
        assertEquals("watcher", monitor.user());
        assertEquals("w4tch", monitor.password());
        assertEquals("ops", monitor.database());
    }

    @Test
    void explicitUserWithoutPasswordHasNoPassword() throws ConfigException {
        Monitor monitor = parse(TWO_USERS + "monitor: {user: watcher}\n").monitor();
        assertEquals("watcher", monitor.user());
        assertNull(monitor.password());
        // Even when the named user is one of auth.users: only a defaulted user takes a password from auth.users.
        Monitor report = parse(TWO_USERS + "monitor: {user: report}\n").monitor();
        assertEquals("report", report.user());
        assertNull(report.password());
    }

    @Test
    void explicitPasswordWithoutUserKeepsThePassword() throws ConfigException {
        Monitor monitor = parse(TWO_USERS + "monitor: {password: other}\n").monitor();
        assertEquals("app", monitor.user());
        assertEquals("other", monitor.password());
        assertEquals("", parse(TWO_USERS + "monitor: {password: ''}\n").monitor().password());
    }

    @Test
    void defaultedUserUnderTrustHasNoPassword() throws ConfigException {
        Monitor monitor = parse("auth: {method: trust, users: [{name: app}]}\n" + BACKENDS).monitor();
        assertEquals("app", monitor.user());
        assertNull(monitor.password());
    }

    @Test
    void fastIntervalMayEqualTheInterval() throws ConfigException {
        Monitor monitor = parse(MINIMAL + "monitor: {interval: 200ms, fast_interval: 200ms}\n").monitor();
        assertEquals(Duration.ofMillis(200), monitor.interval());
        assertEquals(Duration.ofMillis(200), monitor.fastInterval());
        assertEquals(Duration.ofMillis(1), parse(MINIMAL + "monitor: {interval: 1ms}\n").monitor().fastInterval());
    }

    @Test
    void fastIntervalLongerThanTheIntervalIsRejected() {
        assertEquals(List.of("6:18: monitor.fast_interval: must not be longer than monitor.interval (500ms),"
                + " got \"501ms\""), located(MINIMAL + "monitor:\n  interval: 500ms\n  fast_interval: 501ms\n"));
        // Written before the interval, the problem is still on fast_interval.
        assertEquals(List.of("4:40: monitor.fast_interval: must not be longer than monitor.interval (2s),"
                + " got \"1m\""), located(MINIMAL + "monitor: {interval: 2s, fast_interval: 1m}\n"));
        // Against the default interval of 1s.
        assertEquals(List.of("5:18: monitor.fast_interval: must not be longer than monitor.interval (1s),"
                + " got \"2s\""), located(MINIMAL + "monitor:\n  fast_interval: 2s\n"));
        // Durations too long for Duration.toMillis() are still reported, not thrown.
        assertEquals(List.of("4:51: monitor.fast_interval: must not be longer than monitor.interval"
                + " (200000000000d), got \"300000000000d\""),
                located(MINIMAL + "monitor: {interval: 200000000000d, fast_interval: 300000000000d}\n"));
    }

    @Test
    void invalidIntervalIsNotComparedWithFastInterval() {
        // Only the interval is wrong; comparing fast_interval with the 1s default would invent a second problem.
        assertEquals(List.of("5:13: monitor.interval: must be greater than 0, got \"0s\""),
                located(MINIMAL + "monitor:\n  interval: 0s\n  fast_interval: 2s\n"));
    }

    @Test
    void unknownKeyNamesTheAllowedKeys() {
        assertEquals(List.of("5:3: monitor.intervall: unknown key (expected one of: " + KEYS + ")"),
                located(MINIMAL + "monitor:\n  intervall: 1s\n"));
        assertEquals(List.of("4:26: monitor.dbname: unknown key (expected one of: " + KEYS + ")"),
                located(MINIMAL + "monitor: {user: watcher, dbname: ops}\n"));
    }

    @Test
    void sectionMustBeAMapping() {
        assertEquals(List.of("4:10: monitor: expected a mapping, got \"1s\""), located(MINIMAL + "monitor: 1s\n"));
        assertEquals(List.of("4:10: monitor: expected a mapping, got a list"), located(MINIMAL + "monitor: [a]\n"));
    }

    /** Each entry goes on line 5, under "monitor:"; the expectation is "line:column: path: message". */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "interval: 0s            | 5:13: monitor.interval: must be greater than 0, got \"0s\"",
        "interval: -1s           | 5:13: monitor.interval: must not be negative, got \"-1s\"",
        "interval: 1             | 5:13: monitor.interval: expected a duration such as 500ms, 5s, 10m or 1h, got \"1\"",
        "interval: ~             | 5:13: monitor.interval: expected a duration such as 500ms, 5s, 10m or 1h, got null",
        "interval: fast          | 5:13: monitor.interval: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"fast\"",
        "fast_interval: 0ms      | 5:18: monitor.fast_interval: must be greater than 0, got \"0ms\"",
        "fast_interval: 1.5ms    | 5:18: monitor.fast_interval: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"1.5ms\"",
        "connect_timeout: 0s     | 5:20: monitor.connect_timeout: must be greater than 0, got \"0s\"",
        "connect_timeout: 2      | 5:20: monitor.connect_timeout: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got \"2\"",
        "query_timeout: 0s       | 5:18: monitor.query_timeout: must be greater than 0, got \"0s\"",
        "query_timeout: {a: b}   | 5:18: monitor.query_timeout: expected a duration such as 500ms, 5s, 10m or 1h,"
                + " got a mapping",
        "user: ''                | 5:9: monitor.user: expected a non-empty string, got \"\"",
        "user: ~                 | 5:9: monitor.user: expected a non-empty string, got null",
        "user: [a]               | 5:9: monitor.user: expected a non-empty string, got a list",
        "password: ~             | 5:13: monitor.password: expected a string, got null",
        "password: [a]           | 5:13: monitor.password: expected a string, got a list",
        "database: ''            | 5:13: monitor.database: expected a non-empty string, got \"\"",
        "database: {a: b}        | 5:13: monitor.database: expected a non-empty string, got a mapping",
        "user: \"${MON_USER}\"   | 5:9: monitor.user: environment variable MON_USER is not set",
    })
    void badValues(String entry, String expected) {
        assertEquals(List.of(expected), located(MINIMAL + "monitor:\n  " + entry + "\n"));
    }

    @Test
    void severalMonitorProblemsAreAllReportedInDocumentOrder() {
        assertEquals(List.of(
                "2:24: routing.causal_wait: must be at most 60s, got \"61s\"",
                "4:13: monitor.interval: expected a duration such as 500ms, 5s, 10m or 1h, got \"1\"",
                "5:20: monitor.connect_timeout: must be greater than 0, got \"0s\"",
                "6:3: monitor.retries: unknown key (expected one of: " + KEYS + ")",
                "7:13: monitor.database: expected a non-empty string, got \"\""),
                located(MINIMAL.replace(BACKENDS, "") + """
                        routing: {causal_wait: 61s}
                        monitor:
                          interval: 1
                          connect_timeout: 0s
                          retries: 3
                          database: ''
                        """ + BACKENDS));
    }

    @Test
    void problemsInMonitorFailTheWholeFile() {
        assertEquals(List.of("monitor.interval: must be greater than 0, got \"0s\""),
                problems(MINIMAL + "monitor: {interval: 0s}\n"));
    }

    @Test
    void toStringHidesThePassword() {
        Monitor monitor = new Monitor(Duration.ofSeconds(1), Duration.ofMillis(1), Duration.ofSeconds(2),
                Duration.ofSeconds(2), "watcher", "hunter2", "postgres");
        assertFalse(monitor.toString().contains("hunter2"), monitor.toString());
        assertEquals("Monitor[interval=PT1S, fastInterval=PT0.001S, user=watcher, database=postgres]",
                monitor.toString());
    }

    @Test
    void durationsAndDatabaseAreRequiredButTheLoginIsNot() {
        Duration s = Duration.ofSeconds(1);
        assertThrows(NullPointerException.class, () -> new Monitor(null, s, s, s, "u", "p", "d"));
        assertThrows(NullPointerException.class, () -> new Monitor(s, null, s, s, "u", "p", "d"));
        assertThrows(NullPointerException.class, () -> new Monitor(s, s, null, s, "u", "p", "d"));
        assertThrows(NullPointerException.class, () -> new Monitor(s, s, s, null, "u", "p", "d"));
        assertThrows(NullPointerException.class, () -> new Monitor(s, s, s, s, "u", "p", null));
        assertNull(new Monitor(s, s, s, s, null, null, "d").user());
    }
}

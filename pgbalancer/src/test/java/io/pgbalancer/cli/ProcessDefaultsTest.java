// purpose: the launcher turns Netty's leak detector off only when the operator chose nothing under any of its names
package io.pgbalancer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProcessDefaultsTest {
    private static final List<String> NAMES = List.of(ProcessDefaults.LEAK_DETECTION,
            ProcessDefaults.LEGACY_LEAK_DETECTION, ProcessDefaults.NO_LEAK_DETECTION);
    private final Map<String, String> saved = new HashMap<>();

    @BeforeEach
    void clear() {
        for (String n : NAMES) {
            saved.put(n, System.getProperty(n));
            System.clearProperty(n);
        }
    }

    @AfterEach
    void restore() {
        saved.forEach((n, v) -> {
            if (v == null) {
                System.clearProperty(n);
            } else {
                System.setProperty(n, v);
            }
        });
    }

    @Test
    void offWhenNothingIsSet() {
        ProcessDefaults.apply();
        assertEquals("disabled", System.getProperty(ProcessDefaults.LEAK_DETECTION));
    }

    @Test
    void anOperatorsLevelIsKept() {
        System.setProperty(ProcessDefaults.LEAK_DETECTION, "paranoid");
        ProcessDefaults.apply();
        assertEquals("paranoid", System.getProperty(ProcessDefaults.LEAK_DETECTION));
    }

    @Test
    void netty41sNamesAreRespected() {
        System.setProperty(ProcessDefaults.LEGACY_LEAK_DETECTION, "paranoid");
        ProcessDefaults.apply();
        assertNull(System.getProperty(ProcessDefaults.LEAK_DETECTION), "would override the operator's legacy setting");
        System.clearProperty(ProcessDefaults.LEGACY_LEAK_DETECTION);
        System.setProperty(ProcessDefaults.NO_LEAK_DETECTION, "false");
        ProcessDefaults.apply();
        assertNull(System.getProperty(ProcessDefaults.LEAK_DETECTION));
    }
}

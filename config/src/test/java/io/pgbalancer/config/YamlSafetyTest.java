// purpose: tests that hostile YAML (alias bombs, Java tags, huge or deeply nested documents) is rejected cleanly
package io.pgbalancer.config;

import static io.pgbalancer.config.ConfigAssertions.MINIMAL;
import static io.pgbalancer.config.ConfigAssertions.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class YamlSafetyTest {
    @Test
    void javaTypeTagsAreRejected() {
        List<String> problems = problems(MINIMAL + "listen: !!javax.script.ScriptEngineManager [x]\n");
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("(yaml): Global tag is not allowed: "
                + "tag:yaml.org,2002:javax.script.ScriptEngineManager at line 4"), problems.get(0));
    }

    @Test
    void billionLaughsIsRejected() {
        StringBuilder yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) {
            yaml.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                yaml.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            yaml.append("]\n");
        }
        List<String> problems = problems(yaml.toString());
        assertEquals(List.of("(yaml): Number of aliases for non-scalar nodes exceeds the specified max="
                + YamlComposer.MAX_ALIASES), problems);
    }

    @Test
    void oversizedDocumentIsRejected() {
        String yaml = MINIMAL + "# " + "x".repeat(YamlComposer.MAX_CODE_POINTS) + "\n";
        assertEquals(List.of("(yaml): document is too large (limit 1048576 characters)"), problems(yaml));
    }

    @Test
    void deepNestingIsRejected() {
        String yaml = MINIMAL + "listen: " + "[".repeat(100) + "]".repeat(100) + "\n";
        List<String> problems = problems(yaml);
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("(yaml): Nesting Depth exceeded max 20"), problems.get(0));
    }

    @Test
    void selfReferencingAliasDoesNotLoop() {
        assertEquals(List.of("backends[0]: expected a mapping, got a list"),
                problems(ConfigAssertions.AUTH + "backends: &b [*b]\n"));
    }
}

import base.Accounts;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** tests/run.java: under CI as root, a skipped test fails the run instead of hiding in a green one. */
class RunnerTest {
    @Test
    void aSkipFailsOnlyUnderCiAsRoot() {
        assertNotNull(T3Tests.skipFails(Map.of("CI", "true"), true));
        assertNull(T3Tests.skipFails(Map.of("CI", "true"), false), "another user skips what needs root, as documented");
        assertNull(T3Tests.skipFails(Map.of(), true), "by hand, a skip is a skip");
        assertNull(T3Tests.skipFails(Map.of("CI", ""), true));
        assertNull(T3Tests.skipFails(Map.of("CI", "false"), true));
    }

    @Test
    void theRunnerCountsASkipAsAFailureUnderCi() {
        String cls = AlwaysSkips.class.getName();
        Children.Ran byHand = Repo.script("tests/run.java", Map.of("CI", ""), cls);
        assertEquals(0, byHand.exit(), byHand.all());
        assertTrue(byHand.out().contains("SKIP skips()"), byHand.out());
        assertTrue(byHand.out().strip().endsWith("1 passed, 0 failed, 1 skipped"), byHand.out());

        Children.Ran ci = Repo.script("tests/run.java", Map.of("CI", "true"), cls);
        if (Accounts.isRoot()) {
            assertEquals(1, ci.exit(), ci.all());
            assertTrue(ci.out().contains("FAIL skips(): skipped (Assumption failed: what a reboot test says without nspawn); CI=true and running as root"), ci.out());
            assertTrue(ci.out().strip().endsWith("1 passed, 1 failed, 0 skipped"), ci.out());
        } else {
            assertEquals(0, ci.exit(), "not root: what needs root skips: " + ci.all());
        }
    }

    /** Run only when named (its name does not end in Test): one pass, one skip. */
    static class AlwaysSkips {
        @Test
        void passes() {}

        @Test
        void skips() {
            assumeTrue(false, "what a reboot test says without nspawn");
        }
    }
}

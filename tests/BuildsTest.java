import install.Builds;
import base.Drift;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator's edit in place that does not compile must not stop the units: reconcile keeps
 * each script's last good build, --check reports the broken one, and the launcher runs the last
 * good build (saying so) where the units ask it to. On a copy of this checkout.
 */
class BuildsTest {
    @TempDir Path tmp;

    /** The bench (README's figures) is built from lib/ and tests/support too: a change there must not leave it unbuildable. */
    @Test
    void theBenchBuilds() {
        Children.Ran r = Children.run(List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", "build", Repo.ROOT.resolve("tests/bench.java").toString()),
                java.util.Map.of(), Repo.ROOT, java.time.Duration.ofMinutes(10));
        assertEquals(0, r.exit(), "tests/bench.java builds: " + r.all());
    }

    @Test
    void aBrokenEditFallsBackToTheLastGoodBuildAndIsReported() throws Exception {
        Path copy = tmp.resolve("checkout");
        Files.createDirectories(copy);
        for (String f : List.of("jbang", "t3-save.java", "t3-restore.java", "t3-reconcile.java")) Files.copy(Repo.ROOT.resolve(f), copy.resolve(f));
        Children.check("cp", "-r", Repo.ROOT.resolve("lib").toString(), Repo.ROOT.resolve("units").toString(), copy.toString());
        Path lastGood = tmp.resolve("last-good");
        Map<String, String> env = new HashMap<>(Map.of("JBANG_DIR", tmp.resolve("jbang-dir").toString(), "T3_JBANG_BUNDLED", "1"));

        List<Drift> first = Builds.drift(copy, env, lastGood);
        assertEquals(3, first.size(), first.toString());
        assertTrue(first.stream().allMatch(d -> d.what().contains("is missing")), first.toString());
        for (Drift d : first) d.fix().apply();
        assertTrue(Files.isRegularFile(Builds.jar(lastGood, "t3-save.java")));
        assertEquals(List.of(), Builds.drift(copy, env, lastGood), "built and current: no drift");

        Files.writeString(copy.resolve("lib/base/Log.java"), "\nthis does not compile\n", StandardOpenOption.APPEND);
        List<Drift> broken = Builds.drift(copy, env, lastGood);
        assertEquals(3, broken.size(), broken.toString());
        for (Drift d : broken) {
            assertTrue(d.what().contains("does not build") && d.what().contains("Log.java") && d.what().contains("its unit runs the last good build"), d.what());
            assertThrows(Exception.class, () -> d.fix().apply(), "reconcile cannot fix an operator's edit; it says so");
        }

        Map<String, String> unitEnv = new HashMap<>(env);
        unitEnv.put("T3_LAST_GOOD", lastGood.toString());
        List<String> run = List.of(copy.resolve("jbang").toString(), "--quiet", "--offline", copy.resolve("t3-save.java").toString(), "--version");
        Children.Ran fallback = Children.run(run, unitEnv, copy, Duration.ofMinutes(5));
        assertEquals(0, fallback.exit(), fallback.all());
        assertEquals("t3-save 2", fallback.out().strip(), "the last good build ran, with the arguments given");
        assertTrue(fallback.err().contains("does not build") && fallback.err().contains("running its last good build"), fallback.err());

        Children.Ran plain = Children.run(run, env, copy, Duration.ofMinutes(5));
        assertNotEquals(0, plain.exit(), "without T3_LAST_GOOD (an operator by hand) the error is the answer: " + plain.all());
        assertFalse(plain.out().contains("t3-save 2"));
    }
}

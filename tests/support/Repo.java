import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The checkout under test, and running its scripts the way an operator does: ./jbang SCRIPT. */
public final class Repo {
    public static final Path ROOT = locate();
    public static final Path FAKE_CLAUDE = ROOT.resolve("tests/fake-claude/claude");

    private Repo() {}

    private static Path locate() {
        Path p = Path.of(System.getProperty("t3.repo", System.getenv().getOrDefault("T3_REPO", ""))).toAbsolutePath();
        for (Path c = p; c != null; c = c.getParent()) if (Files.exists(c.resolve("t3-save.java"))) return c;
        throw new IllegalStateException("run the tests from the checkout (./jbang tests/run.java), or set T3_REPO");
    }

    /** Runs {@code ./jbang <script> args…} with the given T3_* settings added to our environment. */
    public static Children.Ran script(String script, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("jbang").toString(), "--quiet", ROOT.resolve(script).toString()));
        cmd.addAll(List.of(args));
        Map<String, String> full = new HashMap<>(env);
        return Children.run(cmd, full, ROOT, Duration.ofMinutes(5));
    }

    /**
     * A Maven repository with everything the scripts need (JBang's own jar included), built once
     * into the test cache: bound into the reboot test's container, copied for a person's own caches.
     */
    public static Path warmJBangRepo() throws Exception {
        Path m2 = Files.createDirectories(Container.CACHE.resolve("m2"));
        Map<String, String> env = Map.of("JBANG_REPO", m2.toString(), "JBANG_DIR", Container.CACHE.resolve("jbang-host").toString());
        for (String s : List.of("t3-save.java", "t3-restore.java", "t3-reconcile.java")) {
            Children.Ran r = Children.run(List.of(ROOT.resolve("jbang").toString(), "--quiet", "build", ROOT.resolve(s).toString()),
                    env, ROOT, Duration.ofMinutes(10));
            if (r.exit() != 0) throw new AssertionError("warming " + m2 + " for " + s + ": " + r.all());
        }
        return m2;
    }
}

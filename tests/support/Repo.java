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
}

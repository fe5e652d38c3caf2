import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The real assistant CLIs, at pinned versions, installed once by npm into the test cache
 * (T3_TEST_CACHE, beside the reboot test's rootfs; delete it to install again) where every test
 * user may run them. Each package has a prefix of its own, named by its version, built in a
 * temporary folder and moved into place whole, so a run killed midway leaves nothing half-made.
 */
public final class RealAssistants {
    /** A package, pinned, and whether its install scripts must run (they run as root here: only where the CLI needs them). */
    public record Package(String spec, boolean scripts) {}

    /** Claude Code's postinstall links its native binary (an optional dependency from the same registry) into place. */
    public static final Package CLAUDE = new Package("@anthropic-ai/claude-code@2.1.330", true);
    /** Codex's native binary comes as a dependency of its own: no script needed. */
    public static final Package CODEX = new Package("@openai/codex@0.169.0", false);
    /** Gemini's node-pty and keytar build in their install scripts. */
    public static final Package GEMINI = new Package("@google/gemini-cli@0.61.0", true);
    /** OpenCode's postinstall links its native binary into place. */
    public static final Package OPENCODE = new Package("opencode-ai@1.18.33", true);

    private RealAssistants() {}

    /** An installed package's prefix, or why there is none (said by the test that needs it, as its reason to skip). */
    public record Install(Path prefix, String whyNot) {
        public Path bin(String name) { return prefix.resolve("node_modules/.bin").resolve(name); }
    }

    public static synchronized Install of(Package p) {
        String pkg = p.spec();
        Path prefix = Container.CACHE.resolve("npm-" + pkg.replaceAll("[^A-Za-z0-9.]+", "-"));
        if (Files.isDirectory(prefix.resolve("node_modules"))) return new Install(prefix, null);
        if (Children.run(List.of("sh", "-c", "command -v npm"), Map.of("PATH", System.getenv("PATH")), Path.of("/"), Duration.ofSeconds(10)).exit() != 0) {
            return new Install(null, "npm is not on PATH (tests/run.sh installs Debian's npm as root)");
        }
        try {
            Files.createDirectories(Container.CACHE);
            Path tmp = Files.createTempDirectory(Container.CACHE, "npm-building-");
            List<String> cmd = new java.util.ArrayList<>(List.of("npm", "install", "--prefix", tmp.toString(), "--no-audit", "--no-fund", "--loglevel=error"));
            if (!p.scripts()) cmd.add("--ignore-scripts");
            cmd.add(pkg);
            Children.Ran r = Children.run(cmd,
                    Map.of("PATH", System.getenv("PATH"), "HOME", System.getProperty("user.home")), Path.of("/"), Duration.ofMinutes(10));
            if (r.exit() != 0) return new Install(null, "npm install " + pkg + " failed (" + r.exit() + "): " + r.all().strip());
            Children.check("chmod", "-R", "a+rX", tmp.toString());
            Files.move(tmp, prefix, StandardCopyOption.ATOMIC_MOVE);
            return new Install(prefix, null);
        } catch (Exception e) {
            return new Install(null, "installing " + pkg + ": " + e);
        }
    }
}

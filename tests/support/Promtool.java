import base.Accounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * promtool, from Debian's prometheus package, unpacked into the test cache (T3_TEST_CACHE) and
 * never installed: installing the package would start a Prometheus server on the machine.
 */
public final class Promtool {
    /** Its path, or why there is none (said by the test that needs it, as its reason to skip). */
    public record Install(Path bin, String whyNot) {}

    private Promtool() {}

    public static synchronized Install get() {
        Path bin = Container.CACHE.resolve("promtool").resolve("promtool");
        if (Files.isExecutable(bin)) return new Install(bin, null);
        if (!Accounts.isRoot()) return new Install(null, "promtool comes from Debian's prometheus package, fetched as root (run the tests as root: CI does)");
        try {
            Files.createDirectories(Container.CACHE);
            Path tmp = Files.createTempDirectory(Container.CACHE, "promtool-building-");
            Map<String, String> env = Map.of("PATH", System.getenv("PATH"), "DEBIAN_FRONTEND", "noninteractive");
            Children.Ran got = Children.run(List.of("apt-get", "download", "prometheus"), env, tmp, Duration.ofMinutes(5));
            if (got.exit() != 0) {
                // A fresh machine has no package lists yet.
                Children.run(List.of("apt-get", "update", "-q"), env, tmp, Duration.ofMinutes(5));
                got = Children.run(List.of("apt-get", "download", "prometheus"), env, tmp, Duration.ofMinutes(5));
            }
            if (got.exit() != 0) return new Install(null, "apt-get download prometheus failed: " + got.all().strip());
            try (var debs = Files.list(tmp)) {
                Path deb = debs.filter(p -> p.getFileName().toString().endsWith(".deb")).findFirst().orElseThrow();
                Children.check("dpkg-deb", "-x", deb.toString(), tmp.resolve("x").toString());
            }
            Path dir = Files.createDirectories(tmp.resolve("promtool"));
            Files.move(tmp.resolve("x/usr/bin/promtool"), dir.resolve("promtool"));
            Files.move(dir, Container.CACHE.resolve("promtool"), StandardCopyOption.ATOMIC_MOVE);
            Children.check("rm", "-rf", tmp.toString());
            return new Install(bin, null);
        } catch (Exception e) {
            return new Install(null, "unpacking promtool: " + e);
        }
    }
}

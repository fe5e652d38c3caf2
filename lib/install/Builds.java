package install;

import base.Drift;
import base.Exec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The scripts built into the units' JBang caches, and the last build of each that compiled
 * ({@code <cache>/last-good/<name>/<name>.jar} with its dependencies): an operator's edit in place
 * that no longer compiles must not stop the boot restore, so the launcher falls back to it.
 */
public final class Builds {
    public static final List<String> SCRIPTS = List.of("t3-save.java", "t3-restore.java", "t3-reconcile.java");
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    /** Beside each last good jar: the hash of the sources it was built from. */
    private static final String SOURCE = "SOURCE";

    private Builds() {}

    /** The last good jar of a script ({@code t3-save.java} -> {@code <lastGood>/t3-save/t3-save.jar}). */
    public static Path jar(Path lastGood, String script) {
        String name = script.replaceFirst("\\.java$", "");
        return lastGood.resolve(name).resolve(name + ".jar");
    }

    /**
     * A drift per script that does not build (its unit then runs the last good build: the operator
     * must fix the edit), and per last good build missing or older than the sources (rebuilt).
     */
    public static List<Drift> drift(Path checkout, Map<String, String> env, Path lastGood) throws IOException {
        List<Drift> drifts = new ArrayList<>();
        for (String script : SCRIPTS) {
            Path jar = jar(lastGood, script);
            Exec.Result built = jbang(checkout, env, "build", checkout.resolve(script).toString());
            if (!built.ok()) {
                String fallback = Files.isRegularFile(jar)
                        ? "its unit runs the last good build, of " + Files.getLastModifiedTime(jar).toInstant()
                        : "there is no last good build: its unit fails";
                String why = built.timedOut() ? "timed out" : firstError(built);
                drifts.add(new Drift(script + " does not build (" + why + "); " + fallback, () -> {
                    throw new IOException("fix " + script + " or lib/ in " + checkout + " (t3-reconcile --check says when it builds)");
                }));
                continue;
            }
            String hash = sourceHash(checkout, script);
            Path stamp = jar.getParent().resolve(SOURCE);
            boolean current = Files.isRegularFile(jar) && Files.isRegularFile(stamp) && Files.readString(stamp).strip().equals(hash);
            if (!current) {
                drifts.add(new Drift("the last good build of " + script + " (" + jar + ") is " + (Files.exists(jar) ? "older than its sources" : "missing"),
                        () -> export(checkout, env, script, lastGood, hash)));
            }
        }
        return drifts;
    }

    /** Whether every script's last good build is there and built from the sources as they are: read only, nothing built. */
    public static boolean current(Path checkout, Path lastGood) {
        try {
            for (String script : SCRIPTS) {
                Path jar = jar(lastGood, script), stamp = jar.getParent().resolve(SOURCE);
                if (!Files.isRegularFile(jar) || !Files.isRegularFile(stamp) || !Files.readString(stamp).strip().equals(sourceHash(checkout, script))) return false;
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Exports the script with its dependencies beside, then swaps it in whole. */
    static void export(Path checkout, Map<String, String> env, String script, Path lastGood, String hash) throws IOException {
        Path dir = jar(lastGood, script).getParent();
        Path fresh = lastGood.resolve("." + dir.getFileName() + ".new"), old = lastGood.resolve("." + dir.getFileName() + ".old");
        remove(fresh);
        remove(old);
        Files.createDirectories(fresh);
        Exec.Result r = jbang(checkout, env, "export", "portable", "--force", "-O", fresh.resolve(jar(lastGood, script).getFileName()).toString(),
                checkout.resolve(script).toString());
        if (!r.ok()) throw new IOException("jbang export of " + script + " failed: " + (r.timedOut() ? "timed out" : firstError(r)));
        Files.writeString(fresh.resolve(SOURCE), hash + "\n");
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) Files.move(dir, old);
        Files.move(fresh, dir);
        remove(old);
    }

    /** What a script is built from ({@link Sources}): each file's place in the checkout and its bytes. */
    static String sourceHash(Path checkout, String script) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Path root = checkout.toAbsolutePath().normalize();
            for (Path f : Sources.of(checkout, script)) {
                sha.update(root.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
                sha.update(Files.readAllBytes(f));
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Exec.Result jbang(Path checkout, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(checkout.resolve("jbang").toString(), "--quiet"));
        cmd.addAll(List.of(args));
        Map<String, String> noFallback = new java.util.HashMap<>(env);
        noFallback.put("T3_LAST_GOOD", ""); // a build that fails must say so, never run an old build instead
        return Exec.run(cmd, noFallback, TIMEOUT);
    }

    /** The compiler's first error line, else the first line JBang printed. */
    private static String firstError(Exec.Result r) {
        return (r.err() + "\n" + r.out()).lines().filter(l -> l.contains("error:")).findFirst().orElse(r.firstErrorLine()).strip();
    }

    private static void remove(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        Exec.Result r = Exec.run(List.of("rm", "-rf", "--one-file-system", p.toString()), Duration.ofMinutes(1));
        if (!r.ok()) throw new IOException("cannot remove " + p + ": " + r.firstErrorLine());
    }
}

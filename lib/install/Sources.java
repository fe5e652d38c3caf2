package install;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Which files a script is built from: itself and every file its {@code //SOURCES} lines name,
 * as JBang reads them (a glob relative to the script; {@code lib/**.java} is every .java file
 * under lib/, at any depth). The last good build's hash and the checkout's trust check both ask
 * this, so neither can miss a file JBang compiles, wherever in lib/ it sits.
 */
public final class Sources {
    private static final String DIRECTIVE = "//SOURCES ";

    private Sources() {}

    /** The script and its sources, absolute and normalized, sorted. */
    public static List<Path> of(Path checkout, String script) throws IOException {
        Path file = checkout.toAbsolutePath().normalize().resolve(script);
        Set<Path> out = new TreeSet<>(List.of(file));
        for (String line : Files.readAllLines(file)) {
            if (!line.startsWith(DIRECTIVE)) continue;
            for (String glob : line.substring(DIRECTIVE.length()).trim().split("\\s+")) out.addAll(expand(file.getParent(), glob));
        }
        return new ArrayList<>(out);
    }

    /**
     * Every directory a file added to would be compiled into {@code scripts}, and run as root: the
     * script's own folder, and each folder a glob walks (lib/ and every folder under it, empty
     * ones too: a folder made there next is walked as well).
     */
    public static Set<Path> directories(Path checkout, List<String> scripts) throws IOException {
        Set<Path> dirs = new TreeSet<>();
        for (String script : scripts) {
            Path file = checkout.toAbsolutePath().normalize().resolve(script);
            dirs.add(file.getParent());
            for (String line : Files.readAllLines(file)) {
                if (!line.startsWith(DIRECTIVE)) continue;
                for (String glob : line.substring(DIRECTIVE.length()).trim().split("\\s+")) {
                    Path root = root(file.getParent(), glob);
                    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) continue;
                    try (Stream<Path> walk = Files.walk(root)) {
                        walk.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).forEach(dirs::add);
                    }
                }
            }
        }
        return dirs;
    }

    /** The folder a glob's walk starts from: its fixed folders, before the first wildcard. */
    private static Path root(Path base, String glob) {
        int wild = indexOfAny(glob, "*?[{");
        String fixed = wild < 0 ? glob : glob.substring(0, Math.max(0, glob.lastIndexOf('/', wild)));
        Path p = base.resolve(fixed.isEmpty() ? "." : fixed).normalize();
        return wild < 0 ? p.getParent() : p;
    }

    /** The files {@code glob} names, relative to {@code base}: its fixed folders first, then the pattern matched below them. */
    private static List<Path> expand(Path base, String glob) throws IOException {
        int wild = indexOfAny(glob, "*?[{");
        if (wild < 0) {
            Path p = base.resolve(glob).normalize();
            return Files.isRegularFile(p) || Files.isSymbolicLink(p) ? List.of(p) : List.of();
        }
        int slash = glob.lastIndexOf('/', wild);
        Path root = root(base, glob);
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob.substring(slash + 1));
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) return List.of();
        try (Stream<Path> walk = Files.walk(root)) {
            // A symlink counts: JBang compiles what it points at, and the trust check follows it there.
            return walk.filter(p -> (Files.isRegularFile(p) || Files.isSymbolicLink(p)) && matcher.matches(root.relativize(p))).toList();
        }
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) if (chars.indexOf(s.charAt(i)) >= 0) return i;
        return -1;
    }
}

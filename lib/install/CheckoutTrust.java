package install;

import base.Accounts;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether a checkout may be installed: the units run its scripts as root, so whoever can write
 * any of them (or rename a directory on the way to them) is root. Every file the units run, and
 * every directory from / down to it, must be owned by root and writable by root alone (in
 * single-user mode by root or her, and by them alone: her units run as her); a
 * directory above the checkout writable by all is fine when sticky (/tmp: nobody renames what
 * is not theirs); the checkout, every folder of the scripts' sources and units/ never are,
 * since a file added there is run.
 * Symlinks are followed and their targets held to the same rule.
 */
public final class CheckoutTrust {
    private CheckoutTrust() {}

    /** Why {@code checkout} cannot be trusted, one line per path; empty when it can. */
    public static List<String> problems(Path checkout) {
        Set<String> found = new LinkedHashSet<>();
        Set<Path> seen = new java.util.HashSet<>();
        Path dir = checkout.toAbsolutePath().normalize();
        // Where a new file is itself run (a source folder, units/), sticky does not help.
        Set<Path> inside = new java.util.HashSet<>(List.of(dir, dir.resolve("units"), dir.resolve(Units.USER_SOURCES)));
        try {
            inside.addAll(Sources.directories(dir, Builds.SCRIPTS));
        } catch (IOException e) {
            found.add(dir + ": cannot list what the scripts are built from (" + e.getMessage() + ")");
        }
        List<Path> all = new ArrayList<>(ranByUnits(dir));
        all.addAll(inside); // every source folder, empty ones too: a file planted there is compiled next
        for (Path p : all) check(p, inside, found, seen, 0);
        return new ArrayList<>(found);
    }

    /** What the units execute or read: the launcher, the scripts and their sources ({@link Sources}), units/. */
    public static List<Path> ranByUnits(Path dir) {
        List<Path> paths = new ArrayList<>(List.of(dir, dir.resolve("jbang"), dir.resolve("lib"), dir.resolve("units")));
        addMatching(paths, dir, "t3-*.java");
        for (String script : Builds.SCRIPTS) {
            try {
                paths.addAll(Sources.of(dir, script));
            } catch (IOException e) {
                paths.add(dir.resolve(script)); // unreadable: check() reports what it can
            }
        }
        addMatching(paths, dir.resolve("units"), "*");
        addMatching(paths, dir.resolve(Units.USER_SOURCES), "*");
        return paths;
    }

    private static void addMatching(List<Path> paths, Path dir, String glob) {
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
            for (Path p : s) paths.add(p);
        } catch (IOException e) {
            paths.add(dir); // unreadable: check() reports what it can
        }
    }

    /** Checks {@code p}, every directory above it, and where a symlink among them points. */
    private static void check(Path p, Set<Path> inside, Set<String> found, Set<Path> seen, int depth) {
        if (depth > 40) {
            found.add(p + ": too many symlinks");
            return;
        }
        for (Path c = p; c != null; c = c.getParent()) {
            if (!seen.add(c)) continue;
            PosixFileAttributes a;
            int uid;
            try {
                a = Files.readAttributes(c, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                uid = (Integer) Files.getAttribute(c, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                if (c.equals(p)) found.add(p + ": cannot be checked (" + e.getMessage() + ")");
                continue;
            }
            if (uid != 0 && uid != Accounts.currentUid()) {
                found.add(Accounts.isRoot()
                        ? String.format("%s is owned by uid %d (%s), who can change what root runs: chown root:root %s", c, uid, a.owner().getName(), c)
                        : String.format("%s is owned by uid %d (%s), who can change what your units run: use a checkout of your own", c, uid, a.owner().getName()));
            }
            if (a.isSymbolicLink()) {
                try {
                    check(c.getParent().resolve(Files.readSymbolicLink(c)).normalize(), inside, found, seen, depth + 1);
                } catch (IOException e) {
                    found.add(c + ": cannot read the symlink (" + e.getMessage() + ")");
                }
                continue; // a symlink's own mode means nothing
            }
            Set<PosixFilePermission> m = a.permissions();
            boolean sticky = a.isDirectory() && !inside.contains(c) && sticky(c);
            if (m.contains(PosixFilePermission.OTHERS_WRITE) && !sticky) {
                found.add(String.format("%s is writable by everyone: chmod o-w %s", c, c));
            }
            if (m.contains(PosixFilePermission.GROUP_WRITE) && !sticky && !ownPrivateGroup(a)) {
                found.add(String.format("%s is writable by group %s: chmod g-w %s",
                        c, a.group().getName(), c));
            }
        }
    }

    /**
     * One person's own group (a clone made with umask 002 is group-writable): her user private
     * group, named as she is, writes as she does. Root's check never takes it.
     */
    private static boolean ownPrivateGroup(PosixFileAttributes a) {
        if (Accounts.isRoot()) return false;
        Accounts.Account me = Accounts.byUid(Accounts.currentUid()).orElse(null);
        if (me == null || !a.group().getName().equals(me.name())) return false;
        // Her primary group, named as she is, with no member listed (another account whose primary group it is would show in passwd).
        base.Exec.Result g = base.Exec.run(java.util.List.of("getent", "group", me.name()), java.time.Duration.ofSeconds(5));
        String[] f = g.out().strip().split(":", -1);
        if (!g.ok() || f.length < 4 || !f[2].equals(Integer.toString(me.gid())) || !f[3].isEmpty()) return false;
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/etc/passwd")).stream().map(l -> l.split(":", -1))
                    .noneMatch(p -> p.length > 3 && p[3].equals(f[2]) && !p[0].equals(me.name()));
        } catch (IOException e) {
            return false;
        }
    }

    /** The sticky bit, which NIO's PosixFilePermission leaves out. */
    private static boolean sticky(Path dir) {
        try {
            return ((Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 01000) != 0;
        } catch (IOException e) {
            return false;
        }
    }
}

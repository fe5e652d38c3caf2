package base;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** OS accounts as NSS knows them (getent, so LDAP and sssd users count too). */
public final class Accounts {
    /** One passwd entry. */
    public record Account(String name, int uid, int gid, Path home, String shell) {}

    /** Names we accept: no leading '-' (never an option), no '/', nothing a shell or a path would bend. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}");

    /**
     * Accounts found this run, by name: a run asks NSS once per user (the roster or a live
     * server's uid, then the user's own work), not once per question. Only hits are kept (a name
     * useradd creates later is still found), and a uid is always asked afresh (a uid freed by
     * userdel may come back as someone else).
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, Account> BY_NAME = new java.util.concurrent.ConcurrentHashMap<>();

    /** Our own uid: a JVM never changes it. */
    private static volatile int currentUid = -1;

    private Accounts() {}

    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    public static Optional<Account> byName(String name) {
        if (!validName(name)) return Optional.empty();
        Account known = BY_NAME.get(name);
        return known != null ? Optional.of(known) : lookup(name);
    }

    public static Optional<Account> byUid(int uid) {
        return lookup(Integer.toString(uid));
    }

    public static int currentUid() {
        if (currentUid < 0) {
            try {
                currentUid = (Integer) java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read /proc/self: " + e.getMessage(), e);
            }
        }
        return currentUid;
    }

    public static boolean isRoot() {
        return currentUid() == 0;
    }

    /**
     * Why the account's login shell cannot hold a session, when it cannot: nologin or false, not
     * listed in /etc/shells, or not executable. A session started with it would die at once.
     */
    public static Optional<String> unusableShell(Account a) {
        Path shell = Path.of(a.shell());
        String name = shell.getFileName() == null ? "" : shell.getFileName().toString();
        if (name.equals("nologin") || name.equals("false")) return Optional.of(a.name() + "'s login shell is " + shell + ": it may not log in");
        try {
            Path list = Path.of("/etc/shells");
            if (java.nio.file.Files.isRegularFile(list)
                    && java.nio.file.Files.readAllLines(list).stream().map(String::strip).noneMatch(l -> l.equals(a.shell()))) {
                return Optional.of(a.name() + "'s login shell " + shell + " is not in /etc/shells");
            }
        } catch (java.io.IOException e) {
            // no list to check against: the executable check below still applies
        }
        if (!java.nio.file.Files.isExecutable(shell)) return Optional.of(a.name() + "'s login shell " + shell + " is not an executable file");
        return Optional.empty();
    }

    private static Optional<Account> lookup(String key) {
        Optional<String> local = fromFiles(key);
        String line;
        if (local.isPresent()) {
            line = local.get();
        } else {
            Exec.Result r = Exec.run(List.of("getent", "passwd", key), Duration.ofSeconds(5));
            if (!r.ok()) return Optional.empty();
            line = r.out().strip();
        }
        String[] f = line.split(":", -1);
        if (f.length < 7 || !validName(f[0])) return Optional.empty();
        try {
            String shell = f[6].isBlank() ? "/bin/sh" : f[6];
            Account a = new Account(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), Path.of(f[5]), shell);
            BY_NAME.put(a.name(), a);
            return Optional.of(a);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static final Path PASSWD = Path.of("/etc/passwd");
    private static Boolean filesFirst;
    private static Object passwdVersion;
    private static List<String[]> passwd = List.of();

    /**
     * The entry getent would print, read from /etc/passwd without a fork, when NSS asks "files"
     * first for passwd (nsswitch.conf): then a hit there is getent's answer (a getent costs a few
     * ms from the JVM: 20 users, 50-90 ms a save). Empty on a miss (LDAP, sssd: getent asks them).
     * Read again whenever the file changed (useradd, userdel replace it).
     */
    private static synchronized Optional<String> fromFiles(String key) {
        try {
            if (filesFirst == null) {
                filesFirst = java.nio.file.Files.readAllLines(Path.of("/etc/nsswitch.conf")).stream()
                        .map(String::strip).filter(l -> l.startsWith("passwd:")).findFirst()
                        .map(l -> l.substring("passwd:".length()).strip().split("\\s+")[0].equals("files")).orElse(false);
            }
            if (!filesFirst) return Optional.empty();
            var attrs = java.nio.file.Files.readAttributes(PASSWD, java.nio.file.attribute.BasicFileAttributes.class);
            List<Object> version = List.of(String.valueOf(attrs.fileKey()), attrs.lastModifiedTime(), attrs.size());
            if (!version.equals(passwdVersion)) {
                passwd = java.nio.file.Files.readAllLines(PASSWD).stream().map(l -> l.split(":", -1)).filter(f -> f.length >= 7).toList();
                passwdVersion = version;
            }
            boolean byUid = !key.isEmpty() && key.chars().allMatch(Character::isDigit);
            for (String[] f : passwd) {
                if (byUid ? f[2].equals(key) : f[0].equals(key)) return Optional.of(String.join(":", f));
            }
        } catch (java.io.IOException | RuntimeException e) {
            filesFirst = false; // unreadable or odd: getent decides, as before
        }
        return Optional.empty();
    }
}

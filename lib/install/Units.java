package install;

import base.Log;
import base.Mode;
import base.AtomicFile;
import base.Drift;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The systemd units in the checkout, rendered with the checkout's real path and installed where
 * the mode's manager looks: units/ into /usr/local/lib/systemd/system, the place for locally
 * installed software, so /etc/systemd/system stays the operator's (masks, `systemctl edit`
 * drop-ins); in single-user mode units/user/ into her ~/.config/systemd/user.
 */
public final class Units {
    public static final Path INSTALL_DIR = Path.of("usr/local/lib/systemd/system");
    /** The checkout's folder of user units (single-user mode). */
    public static final String USER_SOURCES = "units/user";
    public static final String SAVE_TIMER = "t3-tmux-save.timer";
    public static final String RESTORE = "t3-tmux-restore.service";
    public static final String RECONCILE_TIMER = "t3-tmux-reconcile.timer";

    private Units() {}

    /** JBang's caches for the units: the boot restore runs offline from them ({@link Mode#cacheDir}). */
    public static Path cache(Mode mode) {
        return mode.cacheDir();
    }

    /** Each script's last build that compiled (Builds); the units' T3_LAST_GOOD. */
    public static Path lastGood(Mode mode) {
        return cache(mode).resolve("last-good");
    }

    /** The environment the units run the scripts with (JBang's caches), for builds that must match. */
    public static Map<String, String> jbangEnv() {
        return jbangEnv(Mode.current());
    }

    public static Map<String, String> jbangEnv(Mode mode) {
        Path cache = cache(mode);
        return Map.of("JBANG_DIR", cache.resolve("jbang").toString(), "JBANG_REPO", cache.resolve("m2").toString(),
                "JBANG_NO_VERSION_CHECK", "true", "T3_JBANG_BUNDLED", "1");
    }

    /** Where units go under {@code root} ("/" for the running system); one person's, in her config home. */
    public static Path installDir(Path root, Mode mode) {
        return mode.system() ? root.resolve(INSTALL_DIR) : mode.configHome().resolve("systemd/user");
    }

    /** The system's units, rendered: file name to text. */
    public static Map<String, String> render(Path checkout) throws IOException {
        return render(checkout, Mode.of(Map.of(), true));
    }

    /** Every unit file of the checkout, rendered: file name to text. */
    /** The mode's units (units/, or units/user/ for one person), rendered: file name to text. */
    public static Map<String, String> render(Path checkout, Mode mode) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Path real = checkout.toRealPath();
        String cache = cache(mode).toString();
        // They land unquoted in ExecStart=, where white space splits and '%' is a specifier.
        if (!real.toString().matches(PLAIN)) {
            throw new IllegalArgumentException("the checkout's path '" + real + "' has characters systemd units cannot carry "
                    + "(white space, %, quotes); move the checkout to a plain path such as " + (mode.system() ? "/opt/t3-tmux" : "~/t3-tmux"));
        }
        if (!cache.matches(PLAIN)) {
            throw new IllegalArgumentException("the cache folder '" + cache + "' has characters systemd units cannot carry (white space, %, quotes); "
                    + "set XDG_CACHE_HOME to a plain path");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(real.resolve(mode.system() ? "units" : USER_SOURCES), "t3-tmux-*.{service,timer}")) {
            for (Path f : ds) {
                out.put(f.getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8)
                        .replace("@CHECKOUT@", real.toString()).replace("@CACHE@", cache));
            }
        }
        return out;
    }

    private static final String PLAIN = "[A-Za-z0-9/._+-]+";

    /** A drift for every system unit missing from the install dir or differing from its rendering. */
    public static List<Drift> drift(Path checkout, Path root) throws IOException {
        return drift(checkout, root, Mode.of(Map.of(), true));
    }

    /** A drift for every unit of the mode missing from its install dir or differing from its rendering. */
    public static List<Drift> drift(Path checkout, Path root, Mode mode) throws IOException {
        List<Drift> drifts = new ArrayList<>();
        Path dir = installDir(root, mode);
        for (Map.Entry<String, String> u : render(checkout, mode).entrySet()) {
            Path target = dir.resolve(u.getKey());
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                drifts.add(new Drift(u.getKey() + " is not installed in " + dir, () -> write(target, u.getValue())));
            } else if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                    || !Files.readString(target, StandardCharsets.UTF_8).equals(u.getValue())) {
                drifts.add(new Drift(target + " differs from the checkout's (edited by hand, or from another checkout); replacing it",
                        () -> write(target, u.getValue())));
            }
        }
        return drifts;
    }

    private static void write(Path target, String text) throws IOException {
        Files.createDirectories(target.getParent());
        AtomicFile.write(target, text.getBytes(StandardCharsets.UTF_8), PosixFilePermissions.fromString("rw-r--r--"));
    }

    /**
     * Enablement drift: the save and reconcile timers enabled and running, the restore service
     * enabled. A masked unit is the operator's explicit opt-out: it is reported, never drift.
     */
    public static List<Drift> enablementDrift(Systemctl systemctl, List<String> notes) {
        List<Drift> drifts = new ArrayList<>();
        for (String unit : List.of(SAVE_TIMER, RESTORE, RECONCILE_TIMER)) {
            String enabled = systemctl.isEnabled(unit);
            if (enabled.startsWith("masked")) {
                notes.add(unit + " is masked: the operator's opt-out, left alone (" + systemctl.name() + " unmask " + unit + " to undo)");
                continue;
            }
            if (!enabled.equals("enabled")) {
                drifts.add(new Drift(unit + " is " + (enabled.equals("not-found") ? "not installed yet" : enabled) + ", should be enabled",
                        () -> Systemctl.check(systemctl.enable(unit), systemctl.name() + " enable " + unit)));
            }
            if (unit.endsWith(".timer") && systemctl.live()) {
                String active = systemctl.isActive(unit);
                if (!active.equals("active")) {
                    drifts.add(new Drift(unit + " is " + active + ", should be active",
                            () -> Systemctl.check(systemctl.start(unit), systemctl.name() + " start " + unit)));
                }
            }
        }
        return drifts;
    }

    /**
     * Whether this boot's restore is still to come or running while it is enabled: a save now
     * would overwrite the snapshots it is about to restore from.
     */
    public static boolean bootRestorePending(Systemctl systemctl) {
        if (!systemctl.live() || !systemctl.isEnabled(RESTORE).equals("enabled")) return false;
        return systemctl.hasJob(RESTORE) || systemctl.isActive(RESTORE).equals("activating");
    }

    /** Whether this boot's restore is still queued or running, said with what waits for it ("not saving, ..."). */
    public static boolean bootRestoreRuns(String soWhat) {
        if (!bootRestorePending(Systemctl.of(Mode.current()))) return false;
        Log.warn("the boot restore (%s) has not finished; %s", RESTORE, soWhat);
        return true;
    }
}

package install;

import base.Log;
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
 * The systemd units in the checkout's units/, rendered with the checkout's real path, and
 * installed into /usr/local/lib/systemd/system: the place for locally installed software, so
 * /etc/systemd/system stays the operator's (masks, `systemctl edit` drop-ins).
 */
public final class Units {
    public static final Path INSTALL_DIR = Path.of("usr/local/lib/systemd/system");
    /** JBang's caches for the units: the boot restore runs offline from them. */
    public static final Path CACHE = Path.of("/var/cache/t3-tmux");
    /** Each script's last build that compiled (Builds); the units' T3_LAST_GOOD. */
    public static final Path LAST_GOOD = CACHE.resolve("last-good");
    public static final String SAVE_TIMER = "t3-tmux-save.timer";
    public static final String RESTORE = "t3-tmux-restore.service";
    public static final String RECONCILE_TIMER = "t3-tmux-reconcile.timer";

    private Units() {}

    /** The environment the units run the scripts with (JBang's caches), for builds that must match. */
    public static Map<String, String> jbangEnv() {
        return Map.of("JBANG_DIR", CACHE.resolve("jbang").toString(), "JBANG_REPO", CACHE.resolve("m2").toString(),
                "JBANG_NO_VERSION_CHECK", "true", "T3_JBANG_BUNDLED", "1");
    }

    /** Every unit file of the checkout, rendered: file name to text. */
    public static Map<String, String> render(Path checkout) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Path real = checkout.toRealPath();
        // It lands unquoted in ExecStart=, where white space splits and '%' is a specifier.
        if (!real.toString().matches("[A-Za-z0-9/._+-]+")) {
            throw new IllegalArgumentException("the checkout's path '" + real + "' has characters systemd units cannot carry "
                    + "(white space, %, quotes); move the checkout to a plain path such as /opt/t3-tmux");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(real.resolve("units"), "t3-tmux-*.{service,timer}")) {
            for (Path f : ds) {
                out.put(f.getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8)
                        .replace("@CHECKOUT@", real.toString()).replace("@CACHE@", CACHE.toString()));
            }
        }
        return out;
    }

    /** Where units go under {@code root} ("/" for the running system). */
    public static Path installDir(Path root) {
        return root.resolve(INSTALL_DIR);
    }

    /** A drift for every unit missing from the install dir or differing from its rendering. */
    public static List<Drift> drift(Path checkout, Path root) throws IOException {
        List<Drift> drifts = new ArrayList<>();
        Path dir = installDir(root);
        for (Map.Entry<String, String> u : render(checkout).entrySet()) {
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
                notes.add(unit + " is masked: the operator's opt-out, left alone (systemctl unmask " + unit + " to undo)");
                continue;
            }
            if (!enabled.equals("enabled")) {
                drifts.add(new Drift(unit + " is " + (enabled.equals("not-found") ? "not installed yet" : enabled) + ", should be enabled",
                        () -> Systemctl.check(systemctl.enable(unit), "systemctl enable " + unit)));
            }
            if (unit.endsWith(".timer") && systemctl.live()) {
                String active = systemctl.isActive(unit);
                if (!active.equals("active")) {
                    drifts.add(new Drift(unit + " is " + active + ", should be active",
                            () -> Systemctl.check(systemctl.start(unit), "systemctl start " + unit)));
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
        if (!bootRestorePending(new Systemctl(null))) return false;
        Log.warn("the boot restore (%s) has not finished; %s", RESTORE, soWhat);
        return true;
    }
}

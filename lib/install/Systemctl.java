package install;

import base.Exec;
import base.Mode;
import base.Systemd;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * systemctl, on the running system or (with a root directory) on a tree offline, which is all
 * there is where PID 1 is not systemd: enabling works there, starting does not.
 */
public final class Systemctl {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final Path root;
    /** Her user manager (systemctl --user), not the system's: single-user mode. */
    private final boolean user;

    /** {@code root} null: the running system. */
    public Systemctl(Path root) {
        this(root, false);
    }

    public Systemctl(Path root, boolean user) {
        this.root = root;
        this.user = user;
    }

    /** The running manager of this mode: the system's, or (single-user mode) her own. */
    public static Systemctl of(Mode mode) {
        return new Systemctl(null, mode.singleUser());
    }

    /** Whether units can be started and queried for activity: the manager runs and we act on it. */
    public boolean live() {
        return root == null && (user ? Mode.current().userManager() : Systemd.isPid1());
    }

    /** The manager's name, for the log: "systemctl" or "systemctl --user". */
    public String name() {
        return user ? "systemctl --user" : "systemctl";
    }

    /** enabled, disabled, static, masked, not-found, …: systemctl's own word. */
    public String isEnabled(String unit) {
        String word = run("is-enabled", unit).out().strip();
        return word.isEmpty() ? "not-found" : word.lines().findFirst().orElse("");
    }

    public String isActive(String unit) {
        return run("is-active", unit).out().strip();
    }

    /** These properties of {@code unit}, as systemctl show gives them (an empty value when not known); none where no manager answers. */
    public java.util.Map<String, String> show(String unit, String... properties) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        if (!live()) return out;
        Exec.Result r = run("show", "--property=" + String.join(",", properties), unit);
        for (String line : r.out().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) out.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return out;
    }

    public Exec.Result enable(String unit) { return run("enable", unit); }

    public Exec.Result start(String unit) { return run("start", unit); }

    public Exec.Result daemonReload() { return run("daemon-reload"); }

    /** Whether a start job for the unit is queued or running right now. */
    public boolean hasJob(String unit) {
        return !run("list-jobs", "--no-legend", "--plain", unit).out().isBlank();
    }

    private Exec.Result run(String... args) {
        List<String> cmd = new ArrayList<>(List.of("systemctl"));
        if (user) cmd.add("--user");
        // No manager to ask: enabling is links in files, which --root makes offline (her ~/.config too).
        if (root == null && !live()) cmd.add("--root=/");
        else if (root != null) cmd.add("--root=" + root);
        cmd.addAll(List.of(args));
        return Exec.run(cmd, TIMEOUT);
    }

    /** Fails with systemctl's own words when a change did not take. */
    public static void check(Exec.Result r, String what) {
        if (!r.ok()) throw new IllegalStateException(what + " failed: " + (r.timedOut() ? "timed out" : r.firstErrorLine()));
    }
}

///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Reconcile
//RUNTIME_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData
//SOURCES lib/**.java

import base.Accounts;
import base.Mode;
import install.Builds;
import install.Linger;
import install.ShellVersusManager;
import install.CheckoutTrust;
import base.Cli;
import base.Drift;
import java.time.Instant;
import metrics.Metrics;
import metrics.Reports;
import status.Status;
import store.Roster;
import base.Log;
import store.RunLock;
import base.Settings;
import store.StateStore;
import install.Systemctl;
import install.Units;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "t3-reconcile", mixinStandardHelpOptions = true, version = "t3-reconcile 1", usageHelpWidth = 100,
        description = {
            "Converge this host on what t3-tmux needs, and heal whatever drifted. It is also the installer:",
            "  sudo ./jbang t3-reconcile.java",
            "",
            "- units/ rendered with this checkout's path into /usr/local/lib/systemd/system (a unit that",
            "  differs is replaced); /etc/systemd/system stays yours: masks and `systemctl edit` drop-ins;",
            "- t3-tmux-save.timer and t3-tmux-reconcile.timer enabled and running, t3-tmux-restore.service",
            "  enabled; a MASKED unit is your opt-out and is left alone;",
            "- the state dir root-only (0700), snapshots 0600;",
            "- the three scripts built into JBang's caches, so the boot restore runs offline.",
            "",
            "Run by anyone but root (single-user mode) it converges her own: units/user/ into",
            "~/.config/systemd/user (enabled; started when her user manager runs), her state dir",
            "(~/.local/state/t3-tmux), her caches (~/.cache/t3-tmux), and says whether linger is on",
            "(with it her sessions come back at boot; without it, at her first login)."},
        footer = {"", "Exit status: 0 converged (or, with --check, nothing drifted), 1 drift found (--check) or a fix failed,",
                  "2 bad arguments (--root as anyone but root)."})
class T3Reconcile implements Callable<Integer> {
    @Option(names = "--check", description = "report every drift, change nothing; exit 1 when anything drifted")
    boolean check;

    @Option(names = "--dry-run", description = "print what it would do; change nothing")
    boolean dryRun;

    @Option(names = "--checkout", paramLabel = "DIR", description = "the checkout to install from (default: this script's)")
    Path checkout;

    @Option(names = "--root", paramLabel = "DIR", description = "act on the tree under DIR, offline (image builds); default: this host")
    Path root;

    @Option(names = "--no-build", description = "do not build the scripts into JBang's caches")
    boolean noBuild;

    @Option(names = "--status", description = "one screen: per user, sessions saved and live, conversations, the last snapshot, heals; "
            + "the units, the caches, the drift --check would report; change nothing")
    boolean status;

    @Option(names = "--json", description = "with --status: one JSON document on stdout")
    boolean json;

    private int drifted, fixed, failed;
    /** --status: what drifted, said on its screen rather than in the log. */
    private final List<String> found = new ArrayList<>();

    public static void main(String[] args) {
        Cli.exit(new T3Reconcile(), args);
    }

    @Override
    public Integer call() throws Exception {
        Instant started = Instant.now();
        if (json && !status) {
            Log.error("--json goes with --status");
            return 2;
        }
        if (status) check = true; // it reports, like --check, and changes nothing
        if (status) Log.keepStdoutForData(); // the screen alone on stdout
        Path repo = checkout != null ? checkout : Path.of(System.getenv().getOrDefault("T3_CHECKOUT", ".")).toAbsolutePath();
        if (!Files.isRegularFile(repo.resolve("t3-reconcile.java")) || !Files.isDirectory(repo.resolve("units"))) {
            Log.error("%s is not a t3-tmux checkout; run ./jbang t3-reconcile.java from one, or pass --checkout", repo);
            return 2;
        }
        // Root converges the host for everyone; anyone else her own units and caches (single-user mode).
        Mode mode = root != null ? Mode.of(System.getenv(), true) : Mode.current();
        if (root != null && !Accounts.isRoot()) {
            Log.error("--root builds a system image: run it as root");
            return 2;
        }
        // Whoever can write what the units run is root: refuse such a checkout (under --check, drift).
        List<String> untrusted = CheckoutTrust.problems(repo);
        for (String p : untrusted) {
            if (status) { drifted++; found.add(p); } else if (check) { drifted++; Log.warn("drift: %s", p); } else Log.error("refusing to install from %s: %s", repo, p);
        }
        if (!check && !untrusted.isEmpty()) {
            // The worst drift of all: it must reach the operator's alerts too.
            Path metrics = Settings.fromEnvironment().metricsDir();
            if (metrics != null && !dryRun && root == null) Reports.reconcile(Metrics.of("reconcile", started), untrusted.size(), 0).write(metrics, 2);
            return 2;
        }
        Path top = root == null ? Path.of("/") : root;
        Systemctl systemctl = root != null ? new Systemctl(root) : Systemctl.of(mode);
        if (root == null && !systemctl.live()) {
            Log.info(mode.system() ? "PID 1 is not systemd: installing and enabling units for a boot under systemd; starting nothing"
                    : "no user manager of yours answers (systemctl --user): installing and enabling your units for when it runs; starting nothing");
        }

        // 1. unit files, then one daemon-reload if any changed
        int before = fixed;
        converge(Units.drift(repo, top, mode));
        if (fixed > before && systemctl.live()) Systemctl.check(systemctl.daemonReload(), systemctl.name() + " daemon-reload");

        // 2. enabled and running (masked units are the operator's)
        List<String> notes = new ArrayList<>();
        converge(Units.enablementDrift(systemctl, notes));
        notes.forEach(n -> Log.warn("%s", n));

        // 3. the state dir
        Settings settings = Settings.fromEnvironment();
        StateStore store = new StateStore(top.resolve(Path.of("/").relativize(settings.stateDir().toAbsolutePath())));
        boolean writes = !check && !dryRun && Files.isDirectory(store.dir());
        try (RunLock lock = writes ? RunLock.acquire(store, settings.lockWait()) : null) {
            converge(store.drift());
        }

        // 4. JBang's caches, so the boot restore runs offline, and each script's last good build,
        //    which the units fall back to when an edit in place does not compile
        Boolean cachesWarm = null; // not looked at
        if (status) {
            // The screen builds nothing: whether the last good builds are the sources' is a look at files.
            if (root == null) cachesWarm = Builds.current(repo, Units.lastGood(mode));
        } else if (!noBuild && root == null) {
            int before4 = failed, drifted4 = drifted;
            converge(Builds.drift(repo, Units.jbangEnv(mode), Units.lastGood(mode)));
            cachesWarm = drifted == drifted4;
            if (!check && !dryRun && failed == before4) Log.info("caches warm: the scripts are built in %s", Units.cache(mode));
        }
        // 5. one person's sessions come back when her user manager starts: at boot only with linger
        if (mode.singleUser()) {
            Log.info("%s", Linger.line(Accounts.byUid(Accounts.currentUid()).map(Accounts.Account::name).orElse("you")));
            ShellVersusManager.warnings(mode).forEach(w -> Log.warn("%s", w));
            // Two installs restoring one person's sessions would start her conversations twice.
            if (Files.exists(Units.installDir(Path.of("/"), Mode.of(java.util.Map.of(), true)).resolve(Units.RESTORE))) {
                Log.warn("this machine's operator has installed t3-tmux for its users too; if its roster names you, both restore your sessions: "
                        + "keep one (ask the operator, or systemctl --user disable %s)", Units.RESTORE);
            }
        }

        if (status) {
            Roster.Resolution roster = Roster.resolve(settings, List.of(), () -> store.users().stream().map(u -> new Roster.Entry(u, null)).toList());
            Status.Screen screen = Status.read(settings, store, roster.entries().stream().map(Roster.Entry::user).toList(), systemctl, cachesWarm, found);
            if (json) Status.printJson(screen, System.out);
            else Status.print(screen, System.out, System.console() != null && System.getenv("NO_COLOR") == null && !"dumb".equals(System.getenv("TERM")));
            return 0;
        }

        // 6. metrics for the fleet's Prometheus, where node_exporter reads them
        if (settings.metricsDir() == null && mode.system() && Files.isDirectory(Path.of(NODE_EXPORTER))) {
            Log.info("node_exporter's textfile directory %s is here: T3_METRICS_DIR=%s in /etc/default/t3-tmux exports t3-tmux's metrics "
                    + "(alerts: docs/prometheus-rules.yml)", NODE_EXPORTER, NODE_EXPORTER);
        }

        int exit;
        if (check) {
            Log.info(drifted == 0 ? "no drift" : drifted + " drift(s) found");
            exit = drifted == 0 ? 0 : 1;
        } else {
            if (dryRun) Log.info(drifted == 0 ? "nothing to change" : "would change " + drifted + " thing(s)");
            else Log.info(fixed == 0 && failed == 0 ? "nothing to change: the host is as it should be" : "changed " + fixed + " thing(s), " + failed + " failed");
            exit = failed == 0 ? 0 : 1;
        }
        if (settings.metricsDir() != null && !dryRun && root == null) Reports.reconcile(Metrics.of("reconcile", started), drifted, fixed).write(settings.metricsDir(), exit);
        return exit;
    }

    /** Where Debian's prometheus-node-exporter reads its textfile collector's files. */
    static final String NODE_EXPORTER = "/var/lib/prometheus/node-exporter";

    private void converge(List<Drift> drifts) {
        for (Drift d : drifts) {
            drifted++;
            if (status) {
                found.add(d.what());
            } else if (check) {
                Log.warn("drift: %s", d.what());
            } else if (dryRun) {
                Log.info("would fix: %s", d.what());
            } else {
                try {
                    d.fix().apply();
                    fixed++;
                    Log.info("fixed: %s", d.what());
                } catch (Exception e) {
                    failed++;
                    Log.error("could not fix: %s: %s", d.what(), e.getMessage());
                }
            }
        }
    }

}

///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Restore
//RUNTIME_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData
//SOURCES lib/**.java

import base.Cli;
import base.Log;
import base.Procfs;
import base.Settings;
import heal.Heal;
import heal.HealReport;
import metrics.Metrics;
import metrics.Reports;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import restore.RestoreRun;
import restore.Picker;
import restore.RestoreVerbs;
import restore.Selection;
import store.Roster;
import store.RunLock;
import store.StateStore;
import tmux.ServerCrash;
import tmux.Tmux;

@Command(name = "t3-restore", mixinStandardHelpOptions = true, version = "t3-restore 2", usageHelpWidth = 100,
        description = {
            "Recreate every saved tmux session that is not live, whole: its windows, panes and layouts, each",
            "pane in its cwd resuming its own claude conversation (claude --resume <uuid> in the",
            "conversation's starting directory, then the login shell when claude exits), or running its",
            "program again when T3_RESTORE_PROGRAMS lists it. Live sessions are left alone; a second run",
            "restores nothing.",
            "",
            "Without options: every roster user's newest snapshot (what the boot restore does). A pane comes",
            "back as a plain shell when it has no conversation, when its transcript is gone, when that",
            "conversation already runs elsewhere, or when it was not running when saved; the log says which.",
            "Sessions forgotten with --forget are skipped. The verbs below act on one user (--user NAME)."},
        footer = {"", "Exit status: 0 all done, 1 some rows failed (named in the log), 2 bad arguments, an unknown user,",
                  "  a snapshot or session that is not there, or an ambiguous --find."})
class T3Restore implements Callable<Integer> {
    @Option(names = "--user", paramLabel = "NAME", description = "only this roster user (repeatable; the verbs take exactly one)")
    List<String> users = new ArrayList<>();

    /** The verbs: at most one (picocli says so when two are given). */
    @ArgGroup(exclusive = true)
    Verb verb = new Verb();

    static final class Verb {
        @Option(names = "--list", description = "list the user's snapshots, newest first: time, sessions, conversations; KEPT: gone from their assistant, kept by t3 (a restore puts them back); LOST: gone, and no copy")
        boolean list;

        @Option(names = "--snapshot", paramLabel = "TIME", description = "restore this snapshot (a name --list shows, e.g. 20261124T193000Z) instead of the newest")
        String snapshot;

        @Option(names = "--find", paramLabel = "TEXT", description = "restore the one session named TEXT exactly, or whose conversation id "
                + "starts with TEXT, searching every snapshot, newest first")
        String find;

        @Option(names = "--forget", paramLabel = "NAME", description = "the user closed session NAME on purpose: blanket and boot restores skip it "
                + "until it is live again (--find and --session still bring it back; history is kept)")
        String forget;

        @Option(names = "--heal", description = "heal crashes (the save timer runs this after each save): a claude killed while its pane "
                + "lives on is resumed in that pane once its shell is idle; a tmux server the OOM killer took gets its sessions back (its "
                + "newest snapshot, or those it took into the server that replaced it). "
                + "What a user closed on purpose (/exit, kill-session, kill-server) leaves no such evidence and is left alone")
        boolean heal;

        @Option(names = "--menu", paramLabel = "PAGE", description = "show a menu on the tmux client --tmux-client names (the plugin's prefix + R): "
                + "PAGE sessions (each saved session not live now, newest first) or snapshots; choosing an item brings it back")
        String menu;

        @Option(names = "--pick", paramLabel = "TOKEN:N", description = "bring back item N of the menu shown last (what a menu item runs)")
        String pick;

        /** A verb that names one user's snapshots or sessions. */
        boolean oneUser() { return list || forget != null || find != null || snapshot != null || menu != null || pick != null; }
    }

    @Option(names = "--session", paramLabel = "NAME", description = "only the saved session of this exact name (repeatable); "
            + "brings it back even if forgotten or not running when saved")
    List<String> sessions = new ArrayList<>();

    @Option(names = "--tmux-client", paramLabel = "CLIENT", description = "the tmux client (#{client_name}) --menu draws on, and that hears how a --pick went")
    String client;

    @Mixin
    Cli.PlanOptions plan = new Cli.PlanOptions();

    public static void main(String[] args) {
        Cli.exit(new T3Restore(), args);
    }

    @Override
    public Integer call() throws Exception {
        String misuse = misuse();
        if (misuse != null) {
            Log.error("%s; see t3-restore --help", misuse);
            return 2;
        }
        if (plan.json) Log.keepStdoutForData();
        Settings settings = Settings.fromEnvironment();
        if ((verb.menu != null || verb.pick != null) && settings.mode().system()) {
            // A menu item runs in her tmux server, as her: it would read her own state dir, not root's.
            Log.error("--menu and --pick are for one person's own tmux, run as her (the plugin's keys); an operator has --list, --find and --session");
            return 2;
        }
        StateStore store = new StateStore(settings.stateDir());
        Roster.Resolution roster = Roster.resolve(settings, users, () -> store.users().stream().map(u -> new Roster.Entry(u, null)).toList());
        if (roster.usageError() != null) {
            Log.error("%s", roster.usageError());
            return 2;
        }
        boolean oneUser = verb.oneUser() || !sessions.isEmpty();
        if (oneUser && roster.entries().size() != 1) {
            Log.error("--list, --snapshot, --session, --find, --forget, --menu and --pick act on one user: add --user NAME");
            return 2;
        }
        // Runs that write take the state dir's lock, as the units' runs do; reading needs none.
        boolean writes = !plan.dryRun && !verb.list && java.nio.file.Files.isDirectory(store.dir());
        try (RunLock lock = writes ? RunLock.acquire(store, settings.lockWait()) : null) {
            String user = roster.entries().isEmpty() ? null : roster.entries().get(0).user();
            java.time.Instant started = java.time.Instant.now();
            Path metrics = plan.dryRun ? null : settings.metricsDir();
            if (verb.heal) {
                Heal heal = new Heal(settings, store, plan.dryRun);
                int failed = heal.all(roster.entries());
                if (plan.dryRun && heal.plan() != null) HealReport.print(heal.plan(), plan.json);
                if (metrics != null) Reports.heal(Metrics.of("heal", started), store, roster.users()).write(metrics, failed == 0 ? 0 : 1);
                return failed == 0 ? 0 : 1;
            }
            if (verb.list) return RestoreVerbs.list(store, user, plan.json);
            if (verb.menu != null) return RestoreVerbs.menu(settings, store, user, verb.menu.equals("snapshots"), client);
            if (verb.pick != null) {
                Picker.Choice choice = new Picker(store, user, java.time.Instant.now()).chosen(verb.pick).orElse(null);
                if (choice == null) return RestoreVerbs.staleMenu(settings, user, client);
                verb.snapshot = choice.snapshot();
                if (choice.session() != null) sessions.add(choice.session());
            }
            if (verb.forget != null) return RestoreVerbs.forget(settings, store, user, verb.forget, plan.dryRun);
            RestoreRun restores = new RestoreRun(settings, store, new RestoreRun.Request(verb.snapshot, sessions, verb.find, plan.dryRun));
            int failed = restores.users(roster.entries(), Procfs.read(), plan.dryRun || oneUser);
            if (plan.dryRun) RestoreVerbs.printPlan(restores.plan(), plan.json);
            failed += restores.resumeAndRecord(ServerCrash.fromKernel());
            if (client != null) RestoreVerbs.tellRestored(settings, user, client, verb.snapshot, sessions, failed);
            // A blanket restore's figures (the boot's) for the whole roster: one for a user or a session would replace them with hers.
            if (metrics != null && !oneUser && users.isEmpty()) Reports.restore(Metrics.of("restore", started), restores.outcomes(), restores.attachable()).write(metrics, failed == 0 ? 0 : 1);
            return failed == 0 ? 0 : 1;
        } catch (Selection.Refused e) {
            Log.error("%s: %s", roster.entries().get(0).user(), e.getMessage());
            return 2;
        }
    }

    /** Options that do not go together, beyond one verb at a time; null when they do. */
    private String misuse() {
        if (!sessions.isEmpty() && (verb.list || verb.find != null || verb.forget != null || verb.heal)) {
            return "--session goes with --snapshot or alone, not with --list, --find, --forget or --heal";
        }
        if (plan.json && !(verb.list || plan.dryRun)) return "--json goes with --list or --dry-run";
        if (verb.list && plan.dryRun) return "--list changes nothing already; drop --dry-run";
        if (verb.menu != null && !verb.menu.equals("sessions") && !verb.menu.equals("snapshots")) return "--menu takes sessions or snapshots, not '" + verb.menu + "'";
        if ((verb.menu != null || client != null) && !Tmux.validClient(client)) {
            return client == null ? "--menu draws on a tmux client: add --tmux-client '#{client_name}'" : "--tmux-client takes a client as tmux names it (/dev/pts/3), not '" + client + "'";
        }
        if ((verb.menu != null || verb.pick != null) && plan.dryRun) return "--menu and --pick go without --dry-run";
        return null;
    }
}

///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Restore
//RUNTIME_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
//SOURCES lib/**.java

import base.Accounts;
import base.Cli;
import claude.Conversations;
import store.EndedSessions;
import heal.HealLedger;
import heal.HealPlan;
import heal.HealReport;
import heal.Healer;
import store.History;
import save.Inventory;
import base.Log;
import heal.MissingPanes;
import store.Pending;
import base.Procfs;
import restore.RestorePlan;
import restore.RestoreVerbs;
import restore.Restorer;
import restore.Resumer;
import store.Roster;
import store.RunLock;
import save.Screens;
import restore.Selection;
import tmux.ServerCrash;
import base.Settings;
import store.SnapshotFormat;
import store.StateStore;
import install.Systemctl;
import tmux.Tmux;
import install.Units;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

    @Option(names = "--list", description = "list the user's snapshots, newest first: time, sessions, conversations")
    boolean list;

    @Option(names = "--snapshot", paramLabel = "TIME", description = "restore this snapshot (a name --list shows, e.g. 20261124T193000Z) instead of the newest")
    String snapshot;

    @Option(names = "--session", paramLabel = "NAME", description = "only the saved session of this exact name (repeatable); "
            + "brings it back even if forgotten or not running when saved")
    List<String> sessions = new ArrayList<>();

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

    @Option(names = "--dry-run", description = "print the plan, per row: state now, action, conversation, why; change nothing")
    boolean dryRun;

    @Option(names = "--json", description = "with --list or --dry-run: one JSON document (an array of objects) on stdout")
    boolean json;

    private final List<Map<String, Object>> plan = new ArrayList<>();
    /** Users whose sessions this run created, waiting for the resumes and their record. */
    private final List<Restorer.UserRun> runs = Collections.synchronizedList(new ArrayList<>());

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
        if (json) Log.keepStdoutForData();
        Settings settings = Settings.fromEnvironment();
        StateStore store = new StateStore(settings.stateDir());
        Roster.Resolution roster = Roster.resolve(settings, users,
                () -> store.users().stream().map(u -> new Roster.Entry(u, null)).toList());
        if (roster.usageError() != null) {
            Log.error("%s", roster.usageError());
            return 2;
        }
        // Runs that write take the state dir's lock, as the units' runs do; reading needs none.
        boolean writes = !dryRun && !list && java.nio.file.Files.isDirectory(store.dir());
        try (RunLock lock = writes ? RunLock.acquire(store, settings.lockWait()) : null) {
            return run(settings, store, roster);
        }
    }

    private int run(Settings settings, StateStore store, Roster.Resolution roster) throws Exception {
        if (heal) return healAll(settings, store, roster.entries());
        boolean oneUser = list || forget != null || find != null || snapshot != null || !sessions.isEmpty();
        if (oneUser && roster.entries().size() != 1) {
            Log.error("--list, --snapshot, --session, --find and --forget act on one user: add --user NAME");
            return 2;
        }
        try {
            if (list) return RestoreVerbs.list(store, roster.entries().get(0).user(), json);
            if (forget != null) return RestoreVerbs.forget(settings, store, roster.entries().get(0).user(), forget, dryRun);
            Procfs procs = Procfs.read();
            int failed = 0;
            if (dryRun || oneUser || roster.entries().size() == 1) {
                for (Roster.Entry entry : roster.entries()) failed += restoreOrLog(settings, store, entry, procs, null);
            } else {
                failed += restoreAtOnce(settings, store, roster.entries(), procs);
            }
            if (dryRun) RestoreVerbs.printPlan(plan, json);
            return failed + resumeAndRecord(settings) == 0 ? 0 : 1;
        } catch (Selection.Refused e) {
            Log.error("%s: %s", roster.entries().get(0).user(), e.getMessage());
            return 2;
        }
    }

    /** One user's restore; a failure is logged and counted, never stops the others. A refused request stops the run. */
    private int restoreOrLog(Settings settings, StateStore store, Roster.Entry entry, Procfs procs, Selection chosen) throws Selection.Refused {
        try {
            return restoreOne(settings, store, entry, procs, chosen);
        } catch (Selection.Refused e) {
            throw e;
        } catch (Exception e) {
            Log.error("%s: restore failed (what it still owes stays owed): %s", entry.user(), Cli.describe(e));
            return 1;
        }
    }

    /**
     * Users whose sessions a blanket restore creates at the same time: the core count, at least 4,
     * at most 8. A user's turn is mostly a tmux call and the panes it starts; on 2 busy cores,
     * creating 20 users' 500 sessions took 2.2-2.4 s 4 at a time, 2.2-3.1 s 2 at a time, 2.4-4.0 s
     * one after another.
     */
    static final int USERS_AT_ONCE = Math.min(8, Math.max(4, Runtime.getRuntime().availableProcessors()));

    /**
     * Every user's sessions, a few users at a time: each user has her own tmux server and her own
     * files in the state dir, and her tmux call (0.1-0.2 s for 25 sessions, mostly tmux starting
     * panes) waits on nothing of anyone else's, so at a boot the last user is attachable about as
     * soon as the first. Her log lines still begin with her name; the resumes that follow stay
     * one budget for the whole machine. Returns how many failed.
     */
    private int restoreAtOnce(Settings settings, StateStore store, List<Roster.Entry> entries, Procfs procs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(entries.size(), USERS_AT_ONCE));
        try {
            List<Future<Integer>> each = new ArrayList<>();
            for (Roster.Entry entry : entries) each.add(pool.submit(() -> restoreOrLog(settings, store, entry, procs, null)));
            int failed = 0;
            for (Future<Integer> f : each) {
                try {
                    failed += f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Selection.Refused r) throw r;
                    if (e.getCause() instanceof Error err) throw err;
                    throw new IllegalStateException(e.getCause());
                }
            }
            // The roster's order, as one user after another would have had it: the summary lines follow it.
            List<String> order = entries.stream().map(Roster.Entry::user).toList();
            runs.sort(Comparator.comparingInt(r -> order.indexOf(r.account().name())));
            return failed;
        } finally {
            pool.shutdown();
        }
    }

    /** --heal: every user on its own; one failure never stops the others. */
    private int healAll(Settings settings, StateStore store, List<Roster.Entry> entries) throws Exception {
        if (Units.bootRestorePending(new Systemctl(null))) {
            Log.warn("the boot restore (%s) has not finished; not healing now", Units.RESTORE);
            return 0;
        }
        int failed = 0;
        for (Roster.Entry entry : entries) {
            try {
                // /proc afresh for each user: users go on working while the run goes from one to the next.
                failed += healOne(settings, store, entry, Procfs.read());
            } catch (Exception e) {
                Log.error("%s: heal failed: %s", entry.user(), Cli.describe(e));
                failed++;
            }
        }
        failed += resumeAndRecord(settings); // servers the OOM killer took, brought back
        if (dryRun) HealReport.print(plan, json);
        return failed == 0 ? 0 : 1;
    }

    /**
     * One user: a server killed (stale socket) gets its sessions back as at boot; in a live
     * server, each crash's conversation is resumed in its own pane, and the sessions that ended
     * with a killed server come back into it. Returns how many failed.
     */
    private int healOne(Settings settings, StateStore store, Roster.Entry entry, Procfs procs) throws Exception {
        String user = entry.user();
        Accounts.Account account = Roster.account(user, settings).orElse(null);
        if (account == null) return 1;
        Tmux tmux = Tmux.of(account, settings);
        History history = store.history(user);
        History.Current newest = history.current();
        HealLedger ledger = HealLedger.read(store, user);
        switch (tmux.socketState()) {
            case ABSENT:
                Log.info("%s: no tmux server (a clean kill-server, or none started): nothing to heal", user);
                return 0;
            case STALE:
                // tmux leaves its socket however the server ends: only the kernel's log, naming the
                // very server the newest snapshot was listed from, tells a crash.
                Tmux.Server server = newest.parsed().server();
                Optional<String> crash = crashes.evidence(account.uid(), server);
                if (crash.isEmpty() || ledger.handledServer(server.key())) {
                    Log.info("%s: the tmux server is gone (stale socket) and no crash is on record%s: it exited (last session closed, "
                            + "kill-server) or was killed on purpose; nothing to heal", user, crash.isEmpty() ? "" : " that heal has not dealt with");
                    return 0;
                }
                Log.warn("%s: the tmux server (%s) was killed by %s: %s the newest snapshot",
                        user, server, crash.get(), dryRun ? "would bring back" : "bringing back");
                return dryRun ? 0 : healServer(settings, store, entry, procs, null, List.of(server.key()), ledger);
            case LIVE:
                break;
            default:
                Log.error("%s: %s does not answer or is not the user's socket; not healing", user, tmux.socket());
                return 1;
        }
        List<Tmux.Pane> panes = tmux.listPanes();
        if (panes == null) return 1;
        HealPlan.World world = HealPlan.world(account, panes, procs, newest.rows(), newest.snapshot().map(History.Snapshot::time).orElse(null),
                tmux::screenLine);
        Instant now = Instant.now();
        List<HealPlan.Step> steps = HealPlan.plan(world, HealPlan.evidence(world), ledger, settings.healMax(), settings.healWindow(), now);
        int failed;
        if (dryRun) {
            steps.forEach(step -> plan.add(HealReport.entry(user, step)));
            failed = MissingPanes.heal(world, tmux, history, settings, true);
        } else {
            failed = Healer.apply(steps, world, tmux, ledger, settings, now) + MissingPanes.heal(world, tmux, history, settings, false);
        }
        return failed + endedWithAKilledServer(settings, store, entry, account.uid(), procs, newest, panes, ledger);
    }

    /**
     * The sessions of the newest snapshot that ended with a server the evidence says was killed
     * (a new one took its place before heal saw the old one gone), brought back into her live
     * server, each pane resuming its conversation: once per server.
     */
    private int endedWithAKilledServer(Settings settings, StateStore store, Roster.Entry entry, int uid, Procfs procs, History.Current newest,
                                       List<Tmux.Pane> panes, HealLedger ledger) throws Exception {
        String user = entry.user();
        java.util.Set<String> live = new java.util.HashSet<>();
        panes.forEach(p -> live.add(p.session()));
        // Evidence the save could not read then (dmesg timed out under memory pressure) is asked for again.
        List<SnapshotFormat.Row> rows = new ArrayList<>();
        for (SnapshotFormat.Row r : newest.rows()) {
            if (r.ended() == null || live.contains(r.session()) || ledger.handledServer(r.ended().server())) continue;
            if (r.ended().crashed()) rows.add(r);
            else crashes.evidence(uid, Tmux.Server.parse(r.ended().server()).orElse(null)).ifPresent(e -> rows.add(EndedSessions.crashed(r, e)));
        }
        if (rows.isEmpty()) return 0;
        List<String> servers = rows.stream().map(r -> r.ended().server()).distinct().toList();
        Log.warn("%s: %s %d session(s) that ended with a killed tmux server (%s): %s", user, dryRun ? "would bring back" : "bringing back",
                rows.size(), rows.get(0).ended().describe(), String.join(", ", rows.stream().map(r -> "'" + r.session() + "'").toList()));
        if (dryRun) return 0;
        String from = newest.snapshot().map(s -> "snapshot " + s.name()).orElse("the newest snapshot");
        return healServer(settings, store, entry, procs, new Selection(rows, false, from), servers, ledger);
    }

    /**
     * Brings back what ended with {@code servers} ({@code chosen}; null: the newest snapshot, as
     * at boot), once: the ledger says so first, so that a restore whose own record does not land
     * never brings back again what she closes since. Nothing is marked when the restore could
     * not start (no account, a shell that cannot log in, a server that hung): it is owed, or
     * tried again.
     */
    private int healServer(Settings settings, StateStore store, Roster.Entry entry, Procfs procs, Selection chosen, List<String> servers,
                           HealLedger ledger) throws Exception {
        if (settings.healMax() == 0) {
            Log.warn("%s: T3_HEAL_MAX=0: not bringing back what a killed tmux server took; t3-restore --user %s does", entry.user(), entry.user());
            return 0;
        }
        servers.forEach(s -> ledger.serverHealed(s, Instant.now()));
        int unrecorded = writeLedger(ledger);
        if (unrecorded == NOWHERE) {
            Log.error("%s: not bringing back what a killed tmux server took: heal acts on a crash only once it can record that it did; "
                    + "the sessions stay kept, and a blanket restore (t3-restore --user %s) brings them back", entry.user(), entry.user());
            return 1;
        }
        int before = runs.size();
        int failed = restoreOne(settings, store, entry, procs, chosen);
        if (runs.size() == before && failed > 0) {
            ledger.forgetServers(servers); // it did not start: let the next heal try again
            writeLedger(ledger);
        }
        return failed + (unrecorded == 0 ? 0 : 1);
    }

    /** {@link #writeLedger}: recorded only in the fallback under /run, or nowhere. */
    private static final int FALLBACK = 1, NOWHERE = 2;

    /** Writes what heal did: 0, {@link #FALLBACK} or {@link #NOWHERE}; the last two are logged and are a failure of the run. */
    private static int writeLedger(HealLedger ledger) {
        try {
            ledger.write(Instant.now());
            return 0;
        } catch (java.io.IOException e) {
            Log.error("%s", ledger.cannotWrite(e));
            return e instanceof HealLedger.Kept ? FALLBACK : NOWHERE;
        }
    }

    /** Crash evidence for users' servers: the kernel's log, read once a run and only when a server is asked about. */
    private final ServerCrash crashes = ServerCrash.fromKernel();

    /** Options that do not go together, in words; null when they do. */
    private String misuse() {
        int verbs = (list ? 1 : 0) + (find != null ? 1 : 0) + (forget != null ? 1 : 0) + (snapshot != null ? 1 : 0) + (heal ? 1 : 0);
        if (verbs > 1) return "--list, --snapshot, --find, --forget and --heal go one at a time";
        if (!sessions.isEmpty() && (list || find != null || forget != null || heal)) return "--session goes with --snapshot or alone, not with --list, --find, --forget or --heal";
        if (json && !(list || dryRun)) return "--json goes with --list or --dry-run";
        if (list && dryRun) return "--list changes nothing already; drop --dry-run";
        return null;
    }

    /** One user: read what to restore, list what is live, plan, then print or recreate, and record. */
    private int restoreOne(Settings settings, StateStore store, Roster.Entry entry, Procfs procs, Selection chosen) throws Exception {
        String user = entry.user();
        Accounts.Account account = Roster.account(user, settings).orElse(null);
        if (account == null) return 1;
        History history = store.history(user);
        Pending owed = store.pending(user);
        Selection wanted = chosen != null ? chosen : find != null ? Selection.find(history, find) : Selection.of(history, owed, snapshot, sessions);
        wanted.problems().forEach(p -> Log.error("%s: %s; row skipped", user, p));
        if (wanted.rows().isEmpty()) {
            Log.info("%s: no snapshot in %s; nothing to restore", user, store.dir());
            return 0;
        }

        Tmux tmux = Tmux.of(account, settings);
        Optional<String> noShell = Accounts.unusableShell(account);
        if (noShell.isPresent()) {
            // Every pane ends in the login shell: with this one each session would die at once.
            Log.error("%s: %s; %s (every session would close at once), the next saves keep every row; "
                    + "give %s a login shell (chsh) and run t3-restore --user %s", user, noShell.get(), dryRun ? "would restore nothing" : "restored nothing", user, user);
            if (!dryRun) owed.begin(wanted.rows(), wanted.rows());
            return 1;
        }
        Inventory.Result live = Inventory.take(account, tmux, procs);
        if (live.status() == Tmux.Status.TIMED_OUT || live.status() == Tmux.Status.FAILED) {
            Log.error("%s: %s (%s); restored nothing, the next saves keep every row", user, live.status().words, live.detail());
            if (!dryRun) owed.begin(wanted.rows(), wanted.rows());
            return 1;
        }
        Conversations conversations = new Conversations(procs, account);
        Map<String, String> running = conversations.whereRunning(live.paneLabels());
        Map<String, Instant> forgotten = store.tombstones(user).read();
        List<RestorePlan.Step> steps = RestorePlan.plan(account, wanted, live.byName(), running,
                forgotten, conversations, entry.defaultCwd(), settings.programs());
        // Asked for by name, a live session's conversations kept aside in it come back in windows of their own.
        int aside = wanted.explicit() ? MissingPanes.asked(account, tmux, history, wanted, running, conversations, settings, dryRun) : 0;
        if (dryRun) {
            steps.forEach(step -> plan.add(RestoreVerbs.planEntry(user, step)));
            return wanted.problems().size() + aside;
        }

        runs.add(Restorer.create(account, tmux, history, owed, wanted, steps, settings, Screens.read(store, user, settings.scrollback()),
                new Restorer.Before(live.byName().keySet(), forgotten.keySet())));
        return aside; // the rest of its failures are counted when it is recorded, after the resumes
    }

    /**
     * Every user's sessions exist now: start their conversations within the budget (most recent
     * first, machine-wide), then record each user's outcome. Returns how many rows failed.
     */
    private int resumeAndRecord(Settings settings) throws Exception {
        if (runs.isEmpty()) return 0;
        Resumer.Result resumed = Resumer.resume(runs.stream().flatMap(r -> r.waiting().stream()).toList(), settings.resume());
        if (!resumed.waiting().isEmpty()) {
            Log.info("%d conversation(s) wait for their user's Enter in their pane%s", resumed.waiting().size(),
                    resumed.why().isEmpty() ? "" : ": " + resumed.why());
        }
        int failed = 0;
        for (Restorer.UserRun run : runs) {
            try {
                failed += Restorer.finish(run, resumed, settings, crashes);
            } catch (Exception e) {
                Log.error("%s: could not record the restore: %s", run.account().name(), Cli.describe(e));
                failed++;
            }
        }
        runs.clear();
        return failed;
    }
}

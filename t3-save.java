///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Save
//RUNTIME_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
//SOURCES lib/**.java

import base.Accounts;
import base.Cli;
import store.EndedSessions;
import heal.HealLedger;
import store.History;
import save.Inventory;
import claude.LiveRecords;
import base.Log;
import save.NextSnapshot;
import base.Procfs;
import store.Roster;
import store.RunLock;
import save.Screens;
import tmux.ServerCrash;
import base.Settings;
import store.SnapshotFormat;
import store.StateStore;
import install.Systemctl;
import tmux.Tmux;
import install.Units;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "t3-save", mixinStandardHelpOptions = true, version = "t3-save 2", usageHelpWidth = 100,
        description = {
            "Snapshot every roster user's tmux sessions (every window and pane: names, layouts, cwds, the",
            "claude conversation running in each pane, an allowlisted program) into the history",
            "<state>/snapshots/<user>/<time>.tsv, so t3-restore can bring them back.",
            "A snapshot is written only when something changed; <state>/<user>.tsv points at the newest.",
            "",
            "Nothing is dropped that may still be wanted: a live pane whose claude died keeps its",
            "conversation (marked not running), rows a restore still owes are kept, the sessions of a tmux",
            "server that died and was started again are kept (marked ended with it), and older snapshots",
            "stay until retention lets them go. A user whose tmux server is missing, gone (stale socket),",
            "empty or not answering keeps the last snapshot. One user's failure never stops the others."},
        footer = {"", "Exit status: 0 every user done, 1 some user failed (see the log), 2 bad arguments."})
class T3Save implements Callable<Integer> {
    @Option(names = "--user", paramLabel = "NAME", description = "only this roster user (repeatable)")
    List<String> users = new ArrayList<>();

    @Option(names = "--dry-run", description = "print the snapshots that would be written; write nothing")
    boolean dryRun;

    public static void main(String[] args) {
        Cli.exit(new T3Save(), args);
    }

    @Override
    public Integer call() throws Exception {
        Settings settings = Settings.fromEnvironment();
        Roster.Resolution roster = Roster.resolve(settings, users, () -> Roster.discoverLiveServers(settings.tmuxTmpDir()));
        if (roster.usageError() != null) {
            Log.error("%s", roster.usageError());
            return 2;
        }
        if (Units.bootRestorePending(new Systemctl(null))) {
            Log.warn("the boot restore (%s) has not finished; not saving, so the snapshots it restores from stay intact", Units.RESTORE);
            return 0;
        }
        if (roster.entries().isEmpty()) Log.info("nobody to save: the roster is empty");
        StateStore store = new StateStore(settings.stateDir());
        if (!dryRun && !roster.entries().isEmpty()) store.prepare();

        int failed = 0;
        try (RunLock lock = dryRun || roster.entries().isEmpty() ? null : RunLock.acquire(store, settings.lockWait())) {
            // Read after the lock: a restore that held it has started claudes this must see.
            Procfs procs = Procfs.read(); // once per run: every user's panes are walked in memory
            ServerCrash crashes = ServerCrash.fromKernel(); // the kernel's log, read once if a server of this boot changed
            // A few users at once: each has her own tmux server and files, and half of a user's
            // turn is waiting for her tmux listing. A dry run prints whole snapshots: one at a time.
            ExecutorService pool = Executors.newFixedThreadPool(dryRun ? 1 : USERS_AT_ONCE);
            try {
                List<Future<Boolean>> each = new ArrayList<>();
                for (Roster.Entry entry : roster.entries()) each.add(pool.submit(() -> saveOrLog(settings, store, entry.user(), procs, crashes)));
                for (Future<Boolean> f : each) if (!f.get()) failed++;
            } finally {
                pool.shutdown();
            }
        }
        return failed == 0 ? 0 : 1;
    }

    /**
     * Users saved at the same time: the core count, 2 to 4. On 2 cores, 20 users: median wall
     * 1.28 s 2 at a time, 1.45 s 4 at a time, 1.49 s one after another (same CPU time).
     */
    static final int USERS_AT_ONCE = Math.min(4, Math.max(2, Runtime.getRuntime().availableProcessors()));

    private boolean saveOrLog(Settings settings, StateStore store, String user, Procfs procs, ServerCrash crashes) {
        try {
            return saveOne(settings, store, user, procs, crashes);
        } catch (Exception e) {
            Log.error("%s: save failed, last snapshot kept: %s", user, Cli.describe(e));
            return false;
        }
    }

    /** One user: list what is live, compose it with what must be kept, record it if it changed. */
    private boolean saveOne(Settings settings, StateStore store, String user, Procfs procs, ServerCrash crashes) throws Exception {
        Accounts.Account account = Roster.account(user, settings).orElse(null);
        if (account == null) return false;
        if (!Accounts.isRoot() && account.uid() != Accounts.currentUid()) {
            Log.error("%s: only root may save another user's sessions; run as root or with --user yourself", user);
            return false;
        }
        Tmux tmux = Tmux.of(account, settings);
        Inventory.Result inv = Inventory.take(account, tmux, procs, settings.programs());
        switch (inv.status()) {
            case OK:
                break;
            case TIMED_OUT:
            case FAILED:
                Log.error("%s: %s (%s); last snapshot kept", user, inv.status().words, inv.detail());
                return false;
            case STALE_SOCKET:
                Log.warn("%s: %s (%s); last snapshot kept", user, inv.status().words, inv.detail());
                return true;
            default:
                Log.info("%s: %s; last snapshot kept", user, inv.status().words);
                return true;
        }
        History history = store.history(user);
        Instant now = Instant.now();
        History.Current newest = history.current(); // read once: composed from here, committed against it below
        List<SnapshotFormat.Row> previous = newest.rows();
        // A claude that left its live record (and heal has not dealt with it) was killed, not quit.
        HealLedger healed = HealLedger.read(store, user);
        Set<String> crashed = LiveRecords.evidence(account, previous, procs).stream().filter(r -> !healed.handled(r))
                .map(r -> r.conversation().toLowerCase()).collect(Collectors.toSet());
        List<SnapshotFormat.Row> owed = store.pending(user).rows();
        // A new server since the newest snapshot: the old one's sessions that are not live ended with it, and are kept.
        EndedSessions.Turnover turnover = EndedSessions.of(previous, newest.parsed().server(), inv.server(), inv.byName().keySet(),
                EndedSessions.leave(owed, store.tombstones(user).read().keySet(), previous, healed::handledServer),
                server -> crashes.evidence(account.uid(), server), now, settings.keepFor());
        EndedSessions.log(user, turnover);
        NextSnapshot.Result next = NextSnapshot.compose(inv.rows(), previous, owed, crashed, turnover, now);
        for (NextSnapshot.Kept k : next.notRunning()) {
            Log.info("%s: '%s' keeps conversation %s in %s, not running: %s", user, k.session(), k.pane().conversation(), k.pane().address(), k.pane().notRunning());
        }
        if (!next.owed().isEmpty()) {
            Log.warn("%s: keeping %d session(s) the restore could not bring back yet (%s); t3-restore --user %s retries them",
                    user, next.owed().size(), String.join(", ", next.owed().stream().map(r -> "'" + r.session() + "'").toList()), user);
        }
        String written = "";
        if (dryRun) {
            System.out.print("### " + store.pointer(user) + "\n" + SnapshotFormat.format(next.rows(), inv.server()));
        } else {
            // A server tmux named but /proc did not confirm is not known: the one before is kept, so a later change is still seen.
            Tmux.Server server = inv.server() != null ? inv.server() : newest.parsed().server();
            written = history.commit(next.rows(), server, now, newest).map(s -> " in snapshot " + s.name()).orElse(", unchanged: nothing written");
            try {
                // A session live again is owed no more: a user's later kill-session must not be undone.
                store.pending(user).settleAll(inv.rows().stream().map(SnapshotFormat.Row::session).collect(java.util.stream.Collectors.toSet()));
                Map<String, Instant> created = new HashMap<>();
                inv.sessions().forEach(x -> created.put(x.name(), x.created()));
                Collection<String> wanted = store.tombstones(user).clearSeen(created);
                if (!wanted.isEmpty()) Log.info("%s: %s live again: no longer forgotten", user, wanted);
            } catch (java.io.IOException e) {
                Log.error("%s: the snapshot is saved%s; what is owed or forgotten is not updated: %s", user, written, Cli.describe(e));
                return false;
            }
            try {
                Screens.save(store, user, tmux, inv, next.rows(), settings.scrollback());
            } catch (java.io.IOException e) {
                Log.warn("%s: the snapshot is saved, its panes' screens are not: %s", user, Cli.describe(e));
            }
            int pruned = history.prune(settings.keep(), settings.keepFor(), now);
            if (pruned > 0) Log.info("%s: retention removed %d old snapshot(s)", user, pruned);
        }
        Log.info("%s: %s %d sessions, %d with a conversation%s", user, dryRun ? "would save" : "saved", inv.rows().size(), inv.withConversation(), written);
        return true;
    }
}

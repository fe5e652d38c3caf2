package heal;

import store.SavedSession;
import store.HealLedger;
import base.Accounts;
import base.Cli;
import base.Log;
import base.Procfs;
import base.Settings;
import install.Units;
import keep.PutBack;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import restore.MissingPanes;
import restore.RestoreRun;
import restore.Resumer;
import restore.Selection;
import store.EndedSessions;
import store.History;
import store.Roster;
import store.SavedPane;
import store.SnapshotFormat;
import store.StateStore;
import tmux.PaneScript;
import tmux.ServerCrash;
import tmux.Tmux;

/**
 * t3-restore --heal: for every user, on the evidence a crash leaves and never on a choice, a
 * claude killed in a live pane is resumed in it, panes a restore did not make (or a killed
 * server took) are made again in their live session, and what a killed server took comes back
 * as at boot: into her live server, or as a new one. Once each, as the ledger says.
 */
public final class Heal {
    private final Settings settings;
    private final StateStore store;
    private final boolean dryRun;
    /** The restores heal makes for servers the OOM killer took: one budget with the rest. */
    private final RestoreRun restores;
    private final List<Map<String, Object>> plan = new ArrayList<>();
    /** Crash evidence for users' servers: the kernel's log, read once a run and only when a server is asked about. */
    private final ServerCrash crashes = ServerCrash.fromKernel();
    /** Panes heal made again, at their gates: started with the restores' in one set of turns. */
    private final List<Resumer.Waiting> gated = new ArrayList<>();
    /** Panes an earlier heal made that still wait at their gates (memory was short, its time was up): offered again. */
    private final List<Resumer.Waiting> again = new ArrayList<>();

    public Heal(Settings settings, StateStore store, boolean dryRun) {
        this.settings = settings;
        this.store = store;
        this.dryRun = dryRun;
        this.restores = new RestoreRun(settings, store, new RestoreRun.Request(null, List.of(), null, dryRun));
    }

    /** A dry run's plan, one entry per crash (HealReport.entry); null when heal did not look (the boot restore runs). */
    public List<Map<String, Object>> plan() { return looked ? plan : null; }

    private boolean looked;

    /** --heal: every user on its own; one failure never stops the others. */
    public int all(List<Roster.Entry> entries) throws Exception {
        if (Units.bootRestoreRuns("not healing now")) return 0;
        looked = true;
        int failed = 0;
        for (Roster.Entry entry : entries) {
            try {
                // /proc afresh for each user: users go on working while the run goes from one to the next.
                failed += user(entry, Procfs.read());
            } catch (Exception e) {
                Log.error("%s: heal failed: %s", entry.user(), Cli.describe(e));
                failed++;
            }
        }
        // What heal made again and the servers a crash took, started in one set of turns: one user's one at a time.
        List<Resumer.Waiting> all = new ArrayList<>(gated);
        all.addAll(again);
        failed += restores.resumeAndRecord(crashes, all);
        tellGates(restores.resumed());
        return failed == 0 ? 0 : 1;
    }

    /**
     * A heal left at its gate is one Enter away, in a session she may be using: said per pane the
     * first time; one left again, in a line, and once it starts.
     */
    private void tellGates(Resumer.Result resumed) {
        if (resumed == null) return;
        String why = resumed.why().isEmpty() ? "" : ": " + resumed.why();
        String then = settings.resume().lazy() ? "" : " (or the next heal's turn)";
        for (Resumer.Waiting w : gated) {
            if (resumed.waiting().contains(w)) Log.warn("%s: healed conversation %s in '%s'%s waits at its gate for her Enter%s%s",
                    w.account().name(), w.conversation(), w.session(), w.place(), then, why);
        }
        for (Resumer.Waiting w : again) {
            if (resumed.pressed().contains(w)) Log.info("%s: started conversation %s in '%s'%s, which an earlier heal left at its gate",
                    w.account().name(), w.conversation(), w.session(), w.place());
        }
        long still = again.stream().filter(resumed.waiting()::contains).count();
        if (still > 0) Log.info("%d conversation(s) an earlier heal made still wait at their gates%s", still, why);
    }

    /**
     * The newest pane of {@code panes} an earlier heal made that waits at its gate still (not one
     * this run made): one a run, after this run's own, so that panes of hers that never get going
     * cannot hold heal (and the lock, and everyone's saves) up; the rest follow on later runs.
     */
    private void stillAtGates(Accounts.Account account, Tmux tmux, List<Tmux.LivePane> panes, Procfs procs) {
        if (settings.resume().lazy() || settings.healMax() == 0) return; // each waits for her Enter, by her operator's choice
        java.util.Set<String> made = new java.util.HashSet<>();
        gated.forEach(w -> made.add(w.paneId()));
        Resumer.Waiting newest = null;
        for (Tmux.LivePane p : panes) {
            if (made.contains(p.id())) continue;
            Optional<Procfs.Proc> proc = procs.get(p.pid());
            Optional<PaneScript.AtGate> gate = proc.flatMap(x -> PaneScript.healedAtGate(procs, x));
            if (gate.isEmpty()) continue;
            SavedPane saved = SavedPane.at(0, 0).conversation(gate.get().conversation(), gate.get().startDir().toString(), null).assistant(gate.get().assistant());
            // Active last when heal made it: older than any pane this run made.
            Resumer.Waiting w = new Resumer.Waiting(account, tmux, p.session(), " (pane " + p.id() + ")", p.id(), p.pid(), saved, procs.startTime(proc.get()));
            if (newest == null || w.lastActive().isAfter(newest.lastActive())) newest = w;
        }
        if (newest != null) again.add(newest);
    }

    /**
     * One user: a server killed (stale socket) gets its sessions back as at boot; in a live
     * server, each crash's conversation is resumed in its own pane, and the sessions that ended
     * with a killed server come back into it. Returns how many failed.
     */
    private int user(Roster.Entry entry, Procfs procs) throws Exception {
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
                return dryRun ? 0 : server(entry, procs, null, List.of(server.key()), ledger);
            case LIVE:
                break;
            default:
                Log.error("%s: %s does not answer or is not the user's socket; not healing", user, tmux.socket());
                return 1;
        }
        List<Tmux.LivePane> panes = tmux.listPanes();
        if (panes == null) return 1;
        HealPlan.World world = HealPlan.world(account, panes, procs, newest.rows(), newest.snapshot().map(History.Snapshot::time).orElse(null),
                tmux::screenLine, PutBack.of(store, account, settings, dryRun));
        Instant now = Instant.now();
        List<HealPlan.Step> steps = HealPlan.plan(world, HealPlan.evidence(world), ledger, settings.healMax(), settings.healWindow(), now);
        int failed;
        if (dryRun) {
            steps.forEach(step -> plan.add(HealReport.entry(user, step)));
            failed = MissingPanes.heal(account, tmux, history, world.newest(), world.running(), settings, world.putBack(), true, gated);
        } else {
            failed = Healer.apply(steps, world, tmux, ledger, settings, now, gated)
                    + MissingPanes.heal(account, tmux, history, world.newest(), world.running(), settings, world.putBack(), false, gated);
            stillAtGates(account, tmux, panes, procs);
        }
        return failed + endedWithAKilledServer(entry, account.uid(), procs, newest, panes, ledger);
    }

    /**
     * The sessions of the newest snapshot that ended with a server the evidence says was killed
     * (a new one took its place before heal saw the old one gone), brought back into her live
     * server, each pane resuming its conversation: once per server.
     */
    private int endedWithAKilledServer(Roster.Entry entry, int uid, Procfs procs, History.Current newest,
                                       List<Tmux.LivePane> panes, HealLedger ledger) throws Exception {
        String user = entry.user();
        java.util.Set<String> live = new java.util.HashSet<>();
        panes.forEach(p -> live.add(p.session()));
        // Evidence the save could not read then (dmesg timed out under memory pressure) is asked for again.
        List<SavedSession> rows = new ArrayList<>();
        for (SavedSession r : newest.rows()) {
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
        return server(entry, procs, new Selection(rows, false, from), servers, ledger);
    }

    /**
     * Brings back what ended with {@code servers} ({@code chosen}; null: the newest snapshot, as
     * at boot), once: the ledger says so first, so that a restore whose own record does not land
     * never brings back again what she closes since. Nothing is marked when the restore could
     * not start (no account, a shell that cannot log in, a server that hung): it is owed, or
     * tried again.
     */
    private int server(Roster.Entry entry, Procfs procs, Selection chosen, List<String> servers,
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
        int before = restores.created();
        int failed = restores.user(entry, procs, chosen);
        if (restores.created() == before && failed > 0) {
            ledger.forgetServers(servers); // it did not start: let the next heal try again
            writeLedger(ledger);
        }
        return failed + (unrecorded == 0 ? 0 : 1);
    }

    /** {@link #writeLedger}: recorded only in the fallback under /run, or nowhere. */
    static final int FALLBACK = 1, NOWHERE = 2;

    /** Writes what heal did: 0, {@link #FALLBACK} or {@link #NOWHERE}; the last two are logged and are a failure of the run. */
    static int writeLedger(HealLedger ledger) {
        try {
            ledger.write(Instant.now());
            return 0;
        } catch (java.io.IOException e) {
            Log.error("%s", ledger.cannotWrite(e));
            return e instanceof HealLedger.Kept ? FALLBACK : NOWHERE;
        }
    }
}

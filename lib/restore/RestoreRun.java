package restore;

import base.Accounts;
import base.Cli;
import base.Log;
import base.Procfs;
import base.Settings;
import assistants.Running;
import keep.PutBack;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import save.Inventory;
import save.Screens;
import store.History;
import store.Owed;
import store.Roster;
import store.StateStore;
import tmux.ServerCrash;
import tmux.Tmux;

/**
 * One run of t3-restore's restores, for every user it is given: each user's sessions created
 * (a few users at a time), then every conversation started within one machine-wide budget, then
 * what came back recorded. A dry run collects each row's plan instead.
 */
public final class RestoreRun {
    /** What was asked: a snapshot (null: the newest), sessions by name, a --find, or a dry run. */
    public record Request(String snapshot, List<String> sessions, String find, boolean dryRun) {
        public static final Request BLANKET = new Request(null, List.of(), null, false);

        /** The rows this request looks at for one user. */
        Selection select(History history, Owed owed) throws java.io.IOException, Selection.Refused {
            return find != null ? Selection.find(history, find) : Selection.of(history, owed, snapshot, sessions);
        }
    }

    private final Settings settings;
    private final StateStore store;
    private final Request request;
    private final boolean dryRun;
    private final List<Map<String, Object>> plan = Collections.synchronizedList(new ArrayList<>());
    /** Users whose sessions this run created, waiting for the resumes and their record. */
    private final List<Restorer.UserRun> runs = Collections.synchronizedList(new ArrayList<>());
    private final List<Restorer.Restored> outcomes = Collections.synchronizedList(new ArrayList<>());
    private java.time.Duration attachable;

    public RestoreRun(Settings settings, StateStore store, Request request) {
        this.settings = settings;
        this.store = store;
        this.request = request;
        this.dryRun = request.dryRun();
    }

    /** A dry run's plan, one entry per row (RestoreVerbs.planEntry). */
    public List<Map<String, Object>> plan() { return plan; }

    /** How many users' sessions this run created so far. */
    public int created() { return runs.size(); }

    /**
     * Every user of {@code entries}: one at a time when one was named or for a dry run (its plan
     * reads in order), else a few at once. Returns how many failed; a refused request is thrown.
     */
    public int users(List<Roster.Entry> entries, Procfs procs, boolean oneAtATime) throws Exception {
        if (entries.isEmpty()) {
            Log.info("nobody to restore: no roster user has a snapshot in %s", store.dir());
            return 0;
        }
        long t0 = System.nanoTime();
        int failed = 0;
        if (oneAtATime || entries.size() == 1) {
            for (Roster.Entry entry : entries) failed += userOrLog(entry, procs, null);
        } else {
            failed = atOnce(entries, procs);
        }
        // Every session is made before any conversation starts: from here each can be attached to.
        attachable = java.time.Duration.ofNanos(System.nanoTime() - t0);
        return failed;
    }

    /** Conversations kept aside in a live session, asked for by name: brought back at their gates, started with the rest. */
    private final List<Resumer.Waiting> aside = java.util.Collections.synchronizedList(new ArrayList<>());

    /** What {@link #resumeAndRecord} pressed and left waiting; null before it started any. */
    private Resumer.Result resumed;

    public Resumer.Result resumed() { return resumed; }

    /** What each user's restore did, once recorded ({@link #resumeAndRecord}). */
    public List<Restorer.Restored> outcomes() {
        return List.copyOf(outcomes);
    }

    /** How long it took until every session this run made could be attached to; null when it made none. */
    public java.time.Duration attachable() {
        return attachable;
    }

    /** One user's restore; a failure is logged and counted, never stops the others. A refused request stops the run. */
    private int userOrLog(Roster.Entry entry, Procfs procs, Selection chosen) throws Selection.Refused {
        try {
            return user(entry, procs, chosen);
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
    private static final int USERS_AT_ONCE = Math.min(8, Math.max(4, Runtime.getRuntime().availableProcessors()));

    /**
     * Every user's sessions, a few users at a time: each user has her own tmux server and her own
     * files in the state dir, and her tmux call (0.1-0.2 s for 25 sessions, mostly tmux starting
     * panes) waits on nothing of anyone else's, so at a boot the last user is attachable about as
     * soon as the first. Her log lines still begin with her name; the resumes that follow stay
     * one budget for the whole machine. Returns how many failed.
     */
    private int atOnce(List<Roster.Entry> entries, Procfs procs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(entries.size(), USERS_AT_ONCE));
        try {
            List<Future<Integer>> each = new ArrayList<>();
            for (Roster.Entry entry : entries) each.add(pool.submit(() -> userOrLog(entry, procs, null)));
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

    /**
     * One user: read what to restore ({@code chosen}, or what the request asks for), list what is
     * live, plan, then print or recreate; recorded by {@link #resumeAndRecord}.
     */
    public int user(Roster.Entry entry, Procfs procs, Selection chosen) throws Exception {
        String user = entry.user();
        Accounts.Account account = Roster.account(user, settings).orElse(null);
        if (account == null) return 1;
        History history = store.history(user);
        Owed owed = store.owed(user);
        Selection wanted = chosen != null ? chosen : request.select(history, owed);
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
        Map<String, String> running = new Running(procs, account).where(live.paneLabels());
        Map<String, Instant> forgotten = store.forgotten(user).read();
        PutBack putBack = PutBack.of(store, account, settings, dryRun);
        List<RestorePlan.Step> steps = RestorePlan.plan(account, wanted, live.byName(), running,
                forgotten, entry.defaultCwd(), settings.programs(), putBack);
        // Asked for by name, a live session's conversations kept aside in it come back in windows of their own.
        int asideFailed = wanted.explicit() ? MissingPanes.asked(account, tmux, history, wanted, running, settings, putBack, dryRun, aside) : 0;
        if (dryRun) {
            steps.forEach(step -> plan.add(RestoreVerbs.planEntry(user, step)));
            return wanted.problems().size() + asideFailed;
        }

        runs.add(Restorer.create(account, tmux, history, owed, wanted, steps, settings, Screens.read(store, user, settings.scrollback()),
                new Restorer.Before(live.byName().keySet(), forgotten.keySet())));
        return asideFailed; // the rest of its failures are counted when it is recorded, after the resumes
    }

    /** {@link #resumeAndRecord(ServerCrash, List)} with no heals of this run's own. */
    public int resumeAndRecord(ServerCrash crashes) throws Exception {
        return resumeAndRecord(crashes, List.of());
    }

    /**
     * Every user's sessions exist now: start their conversations within the budget (most recent
     * first, machine-wide), with {@code healed} (panes heal made again at their gates) in the
     * same turns, one user's one at a time; then record each user's outcome. Returns how many
     * rows failed.
     */
    public int resumeAndRecord(ServerCrash crashes, List<Resumer.Waiting> healed) throws Exception {
        List<Resumer.Waiting> all = new ArrayList<>(healed);
        synchronized (aside) {
            all.addAll(aside);
            aside.clear();
        }
        runs.forEach(r -> all.addAll(r.waiting()));
        if (runs.isEmpty() && all.isEmpty()) return 0;
        Resumer.Result resumed = Resumer.resume(all, settings.resume());
        if (!resumed.waiting().isEmpty()) {
            Log.info("%d conversation(s) wait for their user's Enter in their pane%s", resumed.waiting().size(),
                    resumed.why().isEmpty() ? "" : ": " + resumed.why());
        }
        this.resumed = resumed;
        int failed = 0;
        for (Restorer.UserRun run : runs) {
            try {
                Restorer.Restored done = Restorer.finish(run, resumed, settings, crashes);
                outcomes.add(done);
                failed += done.failed();
            } catch (Exception e) {
                Log.error("%s: could not record the restore: %s", run.account().name(), Cli.describe(e));
                failed++;
            }
        }
        runs.clear();
        return failed;
    }
}

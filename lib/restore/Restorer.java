package restore;

import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.NotRunning;
import base.ConversationId;
import base.Accounts;
import base.Cli;
import store.EndedSessions;
import base.Exec;
import store.History;
import save.Inventory;
import base.Log;
import tmux.PaneScript;
import store.Owed;
import base.Procfs;
import save.Screens;
import tmux.ServerCrash;
import base.Settings;
import store.SnapshotFormat;
import tmux.Tmux;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Bringing one user's planned sessions back, in the order that keeps a big boot quick and safe:
 * every missing session created at once (owed until it exists), conversations left waiting at
 * their gate for the Resumer, then what came back recorded and told in one line.
 */
public final class Restorer {
    /** One user's restore between creating its sessions and recording them. */
    public record UserRun(Accounts.Account account, Tmux tmux, History history, Owed owed, Selection wanted, List<RestorePlan.Step> steps,
                          List<RestorePlan.Step> back, List<Resumer.Waiting> waiting, Map<String, String> missing, int failed, Tmux.Server server,
                          Before before) {}

    /** What was so before this restore: the sessions live, and those forgotten on purpose (a new server takes neither). */
    public record Before(java.util.Set<String> live, java.util.Set<String> forgotten) {
        public static final Before NOTHING = new Before(java.util.Set.of(), java.util.Set.of());
    }

    /** How long, at most, the restore watches that each assistant it started got going. */
    private static final Duration RESUME_CHECK = Duration.ofSeconds(3);

    private Restorer() {}

    /** Creates every session the plan brings back, owing each row until its session exists. */
    public static UserRun create(Accounts.Account account, Tmux tmux, History history, Owed owed, Selection wanted,
                                 List<RestorePlan.Step> steps, Settings settings) throws IOException {
        return create(account, tmux, history, owed, wanted, steps, settings, Screens.NONE, Before.NOTHING);
    }

    /** As above; {@code screens}: what the panes showed at the last save, printed back in each before its program. */
    public static UserRun create(Accounts.Account account, Tmux tmux, History history, Owed owed, Selection wanted,
                                 List<RestorePlan.Step> steps, Settings settings, Screens screens, Before before) throws IOException {
        String user = account.name();
        List<RestorePlan.Step> toCreate = steps.stream().filter(st -> st.action() != RestorePlan.Action.SKIP).toList();
        int unrecorded = owe(user, owed, wanted, toCreate);
        // A pane with a saved screen waits for it on a channel of its own (a random name: no pane can guess another's).
        Map<RestorePlan.PanePlan, String> channels = new java.util.IdentityHashMap<>(); // two sessions' panes may be equal as records
        Map<String, String> screenOf = new HashMap<>();
        channels(toCreate, screens, channels, screenOf);
        Function<RestorePlan.PanePlan, List<String>> command = p -> {
            List<String> argv = RestorePlan.paneCommand(p, account, settings);
            return channels.containsKey(p) ? PaneScript.withScreen(channels.get(p), argv) : argv;
        };
        Map<RestorePlan.Step, Tmux.Created> created = createSessions(user, tmux, toCreate, command);
        Map<RestorePlan.Step, List<SessionLayout.Made>> panes = layOut(account, tmux, created, command);
        // Owed until whole: a run killed before then leaves the row owed, and the next save keeps
        // the conversations of the panes it did not make (NextSnapshot). One back in part is owed
        // until its missing panes are recorded (finish).
        if (unrecorded == 0) {
            try {
                owed.strikeAll(panes.entrySet().stream().filter(e -> e.getValue().stream().allMatch(m -> m.pane() != null))
                        .map(e -> e.getKey().row().session()).collect(java.util.stream.Collectors.toSet()));
            } catch (IOException e) {
                Log.error("%s: could not record which sessions came back (%s); they stay owed, and a restore leaves them alone while live",
                        user, Cli.describe(e));
                unrecorded = 1;
            }
        }
        if (!channels.isEmpty()) showScreens(account, tmux, panes, channels, screenOf);
        List<RestorePlan.Step> back = new ArrayList<>(panes.keySet());
        List<Resumer.Waiting> waiting = new ArrayList<>();
        Map<String, String> missing = new HashMap<>();
        panes.forEach((st, made) -> tell(account, tmux, st, made, waiting, missing));
        // A session back without some of its panes failed in part: the exit status says so.
        long partial = panes.values().stream().filter(made -> made.stream().anyMatch(m -> m.pane() == null)).count();
        Tmux.Server into = created.values().stream().map(Tmux.Created::server).filter(java.util.Objects::nonNull).findFirst()
                .map(s -> Inventory.trusted(s, account.uid(), Procfs.readOne(s.pid()), Procfs.bootTimeNow())).orElse(null);
        return new UserRun(account, tmux, history, owed, wanted, steps, back, waiting, missing, toCreate.size() - back.size() + (int) partial + unrecorded, into, before);
    }

    /**
     * Before anything is created, owes the rows this restore makes; returns 1 when that cannot be
     * written (a full disk: the newest snapshot already holds every row, and no save can replace
     * it while the disk is full, so restoring loses nothing that recording would have kept).
     */
    private static int owe(String user, Owed owed, Selection wanted, List<RestorePlan.Step> toCreate) {
        try {
            owed.begin(wanted.rows(), toCreate.stream().map(RestorePlan.Step::row).toList());
            return 0;
        } catch (IOException e) {
            Log.error("%s: could not record what this restore owes (%s); restoring all the same: the newest snapshot keeps every row",
                    user, Cli.describe(e));
            return 1;
        }
    }

    /** For each pane to make that has a saved screen: a channel of its own ({@code channels}) and the text it waits for on it ({@code screenOf}). */
    private static void channels(List<RestorePlan.Step> toCreate, Screens screens, Map<RestorePlan.PanePlan, String> channels, Map<String, String> screenOf) {
        for (RestorePlan.Step st : toCreate) {
            for (RestorePlan.PanePlan p : st.panes()) {
                screens.of(st.row().session(), p.pane().window(), p.pane().index()).ifPresent(text -> {
                    String channel = "t3-screen-" + java.util.UUID.randomUUID();
                    channels.put(p, channel);
                    screenOf.put(channel, text);
                });
            }
        }
    }

    /** Every session's first pane, in as few tmux calls as tmux allows; what tmux would not make stays owed. */
    private static Map<RestorePlan.Step, Tmux.Created> createSessions(String user, Tmux tmux, List<RestorePlan.Step> toCreate,
                                                                      Function<RestorePlan.PanePlan, List<String>> command) {
        List<Tmux.NewSession> specs = toCreate.stream().map(st -> newSession(st, command)).toList();
        Map<RestorePlan.Step, Tmux.Created> created = new LinkedHashMap<>();
        int notTried = 0;
        for (Tmux.Outcome o : tmux.newSessions(specs)) {
            RestorePlan.Step st = toCreate.get(specs.indexOf(o.wanted()));
            String name = st.row().session();
            if (o.error() != null && o.error().equals(Tmux.NOT_TRIED)) {
                notTried++;
                continue;
            }
            if (!o.ok()) {
                Log.error("%s: could not recreate session '%s' (still owed: the next saves keep it): %s", user, name, o.error());
                continue;
            }
            if (!o.created().name().equals(name)) Log.warn("%s: tmux named the restored session '%s', not '%s' as saved", user, o.created().name(), name);
            created.put(st, o.created());
        }
        if (notTried > 0) Log.error("%s: tmux stopped answering; %d session(s) not tried, still owed: the next saves keep them", user, notTried);
        return created;
    }

    /**
     * One session back: its panes at their gates join {@code waiting}, the conversations of panes
     * tmux did not make join {@code missing}, and the log says what came back where.
     */
    private static void tell(Accounts.Account account, Tmux tmux, RestorePlan.Step st, List<SessionLayout.Made> made,
                             List<Resumer.Waiting> waiting, Map<String, String> missing) {
        String user = account.name(), name = st.row().session();
        List<String> said = new ArrayList<>();
        for (SessionLayout.Made m : made) {
            RestorePlan.PanePlan p = m.plan();
            String where = st.panes().size() > 1 ? " " + p.pane().address() : "";
            String tag = where.isEmpty() ? "" : " (" + where.strip() + ")";
            if (m.pane() == null) {
                if (p.pane().hasConversation()) missing.put(ConversationId.normal(p.pane().conversation()), NotRunning.NOT_RECREATED.text());
            } else if (p.action() == RestorePlan.Action.RESUME) {
                said.add("conversation " + p.pane().conversation() + " to resume in " + p.startDir() + tag);
                waiting.add(new Resumer.Waiting(account, tmux, name, where, m.pane().id(), m.pane().pid(), p.pane(), p.lastActive()));
            } else if (p.pane().hasConversation()) {
                // A conversation that did not come back is worth a warning; a plain shell is not.
                Log.warn("%s: restored '%s'%s in %s as a shell: %s", user, name, where, p.cwd(), p.why());
            } else if (p.action() == RestorePlan.Action.PROGRAM) {
                said.add(p.why() + tag);
            }
        }
        long madeCount = made.stream().filter(m -> m.pane() != null).count();
        String shape = madeCount < made.size() ? " with only " + madeCount + " of its " + made.size() + " panes" : "";
        if (said.isEmpty() && !st.row().hasConversation()) Log.info("%s: restored '%s'%s in %s as a shell: %s", user, name, shape, st.cwd(), st.why());
        else if (!said.isEmpty()) Log.info("%s: restored '%s'%s in %s; %s", user, name, shape, st.cwd(), String.join("; ", said));
    }

    /** The new session's first pane: the first window's first pane, in a window of the saved size. */
    private static Tmux.NewSession newSession(RestorePlan.Step st, Function<RestorePlan.PanePlan, List<String>> paneCommand) {
        RestorePlan.PanePlan first = st.panes().get(0);
        List<String> command = paneCommand.apply(first);
        if (!st.row().hasLayout()) return new Tmux.NewSession(st.row().session(), first.cwd(), RestorePlan.paneEnv(first), command);
        SavedWindow w = st.row().windows().get(0);
        int[] size = SessionLayout.size(st.row());
        return new Tmux.NewSession(st.row().session(), first.cwd(), RestorePlan.paneEnv(first), command, w.autoName() ? null : w.name(), size[0], size[1]);
    }

    /**
     * The rest of each created session: its windows and panes (a tmux call a session that has
     * more than one pane), then which pane became which, then the active panes, zoom and active
     * windows (one call for all). A session whose layout tmux refused comes back with the panes
     * it made, said in the log; those it did not make are missing.
     */
    private static Map<RestorePlan.Step, List<SessionLayout.Made>> layOut(Accounts.Account account, Tmux tmux,
                                                                          Map<RestorePlan.Step, Tmux.Created> created,
                                                                          Function<RestorePlan.PanePlan, List<String>> command) {
        String user = account.name();
        boolean more = false;
        for (Map.Entry<RestorePlan.Step, Tmux.Created> e : created.entrySet()) {
            for (List<List<String>> call : SessionLayout.build(e.getKey(), e.getValue(), command, RestorePlan::paneEnv)) {
                more = true;
                Exec.Result r = tmux.runCommands(call);
                if (!r.ok()) Log.warn("%s: session '%s': tmux would not make all of a window (%s): %s", user, e.getKey().row().session(),
                        String.join(" ", call.get(0).subList(0, Math.min(4, call.get(0).size()))), r.timedOut() ? "tmux timed out" : r.firstErrorLine());
            }
        }
        Tmux.Listing listing = more ? tmux.listSessions() : null;
        if (listing != null && listing.status() != Tmux.Status.OK) {
            Log.warn("%s: tmux would not list the restored panes (%s); only each session's first pane is known", user, listing.detail());
        }
        List<Tmux.LivePane> live = listing == null ? List.of() : listing.panes();
        Map<RestorePlan.Step, List<SessionLayout.Made>> out = new LinkedHashMap<>();
        List<List<String>> focus = new ArrayList<>();
        created.forEach((st, c) -> {
            List<SessionLayout.Made> made = new ArrayList<>(SessionLayout.match(st, c, live));
            // A pane its window could not take comes back all the same, in a window of its own.
            for (int i = 0; i < made.size() && !live.isEmpty(); i++) {
                if (made.get(i).pane() != null) continue;
                RestorePlan.PanePlan p = made.get(i).plan();
                Tmux.NewWindow alone = tmux.newWindow(c.sessionId(), SessionLayout.spec(p, command, RestorePlan::paneEnv));
                if (!alone.ok()) {
                    Log.warn("%s: session '%s' %s could not be recreated: %s", user, st.row().session(), p.pane().address(), alone.error());
                    continue;
                }
                Log.warn("%s: session '%s' %s came back in a window of its own (%d)", user, st.row().session(), p.pane().address(), alone.pane().window());
                made.set(i, new SessionLayout.Made(p, Tmux.LivePane.made(c.sessionId(), alone.pane().window(), alone.pane().id(), alone.pane().pid())));
            }
            out.put(st, made);
            focus.addAll(SessionLayout.focus(st, c, made));
        });
        if (!focus.isEmpty()) {
            Exec.Result r = tmux.runCommands(focus);
            if (!r.ok()) Log.warn("%s: could not select every restored session's active window and pane: %s", user,
                    r.timedOut() ? "tmux timed out" : r.firstErrorLine());
        }
        return out;
    }

    /**
     * Hands each new pane that waits for its screen the text, through the user's tmux (a paste
     * buffer named by the pane's channel), then signals every channel at once, so no pane waits
     * longer than it must, whether its screen arrived or not.
     */
    private static void showScreens(Accounts.Account account, Tmux tmux, Map<RestorePlan.Step, List<SessionLayout.Made>> panes,
                                    Map<RestorePlan.PanePlan, String> channels, Map<String, String> screenOf) {
        List<List<String>> signals = new ArrayList<>();
        int failed = 0;
        for (List<SessionLayout.Made> made : panes.values()) {
            for (SessionLayout.Made m : made) {
                String channel = channels.get(m.plan());
                if (channel == null || m.pane() == null) continue;
                if (!tmux.loadBuffer(channel, screenOf.get(channel).getBytes(java.nio.charset.StandardCharsets.UTF_8)).ok()) failed++;
                signals.add(List.of("wait-for", "-S", channel));
            }
        }
        if (failed > 0) Log.warn("%s: %d restored pane(s) came back without their saved screen: tmux would not take it", account.name(), failed);
        if (!signals.isEmpty() && !tmux.runCommands(signals).ok()) {
            Log.warn("%s: could not tell the restored panes their screens are ready; they go on by themselves within 20 s", account.name());
        }
    }

    /**
     * After the resumes: which started assistants fell through at once (and why), the rows recorded,
     * one line for the journal. Returns how many rows failed.
     */
    public static Restored finish(UserRun run, Resumer.Result resumed, Settings settings, ServerCrash crashes) throws Exception {
        String user = run.account().name();
        List<Resumer.Waiting> pressed = run.waiting().stream().filter(resumed.pressed()::contains).toList();
        Map<String, String> didNotStart = ResumeCheck.failedToStart(run.tmux(), run.account(), pressed, settings, RESUME_CHECK);
        for (Resumer.Waiting w : pressed) {
            String why = didNotStart.get(ConversationId.normal(w.conversation()));
            if (why != null) Log.warn("%s: '%s'%s came back as a shell: %s; its conversation is kept, not running", user, w.session(), w.place(), why);
        }
        Map<String, String> lost = new HashMap<>(run.missing());
        lost.putAll(didNotStart);
        int unrecorded = 0;
        try {
            record(run, lost, settings, crashes);
        } catch (java.io.IOException e) {
            // The sessions are back all the same; the next save lists them.
            Log.error("%s: the sessions are back, but what came back could not be recorded in a snapshot: %s", user, Cli.describe(e));
            unrecorded = 1;
        }
        unrecorded += strike(run, run.back().stream().map(st -> st.row().session()).collect(java.util.stream.Collectors.toSet()));
        long live = run.steps().stream().filter(RestorePlan.Step::live).count();
        int waitingForEnter = (int) run.waiting().stream().filter(resumed.waiting()::contains).count();
        if (run.back().isEmpty() && run.failed() == 0) {
            Log.info("%s: nothing to restore: %d of %d saved sessions are live%s", user, live, run.steps().size(), live < run.steps().size() ? ", the rest skipped" : "");
        } else {
            Log.info("%s: %d sessions back (of %d saved, from %s), %d resumed, %d waiting for Enter%s, %d were live%s", user, run.back().size(),
                    run.steps().size(), run.wanted().from(), pressed.size() - didNotStart.size(), waitingForEnter,
                    waitingForEnter == 0 || resumed.why().isEmpty() ? "" : " (" + resumed.why() + ")", live, run.failed() == 0 ? "" : ", " + run.failed() + " failed");
        }
        return new Restored(user, run.back().size(), pressed.size() - didNotStart.size(), waitingForEnter, didNotStart.size(),
                run.failed() + run.wanted().problems().size() + unrecorded);
    }

    /**
     * What one user's restore did: sessions brought back, conversations resumed, left waiting for
     * Enter, started but fallen through at once (a shell now), rows that failed.
     */
    public record Restored(String user, int back, int resumed, int waiting, int didNotStart, int failed) {}

    /**
     * Strikes {@code sessions} off what the user is owed; returns 1 when that cannot be written (a
     * full disk): the sessions are back, the record says they are owed, and the next restore,
     * finding them live, leaves them alone.
     */
    private static int strike(UserRun run, java.util.Set<String> sessions) {
        try {
            run.owed().strikeAll(sessions);
            return 0;
        } catch (java.io.IOException e) {
            Log.error("%s: could not record that %d session(s) came back (%s); they stay owed, and a restore leaves them alone while live",
                    run.account().name(), sessions.size(), Cli.describe(e));
            return 1;
        }
    }

    /**
     * The sessions that came back go into the newest snapshot, each pane with its conversation,
     * marked not running when it came back as a shell ({@code lost}: why, by conversation id):
     * the next save then keeps the id instead of dropping it with the process that never
     * started. A pane waiting for Enter keeps it running.
     */
    private static void record(UserRun run, Map<String, String> lost, Settings settings, ServerCrash crashes) throws Exception {
        History.Current newest = run.history().current();
        Map<String, SavedSession> rows = new LinkedHashMap<>();
        newest.rows().forEach(r -> rows.put(r.session(), r));
        Map<String, SavedSession> back = new LinkedHashMap<>();
        for (RestorePlan.Step st : run.back()) {
            Map<SavedPane, RestorePlan.PanePlan> plans = new HashMap<>();
            st.panes().forEach(p -> plans.put(p.pane(), p));
            // The panes are new: the next save knows them by where they are, as they were saved.
            SavedSession r = st.row().withPanes(pane -> {
                RestorePlan.PanePlan p = plans.get(pane);
                SavedPane fresh = pane.withoutTmuxPane();
                if (p == null || !pane.hasConversation()) return fresh;
                String why = p.action() == RestorePlan.Action.RESUME ? lost.get(ConversationId.normal(pane.conversation())) : p.lost();
                if (why != null) {
                    NotRunning was = NotRunning.of(why);
                    return fresh.withNotRunning(was.kind() == NotRunning.Kind.RESTORE_FAILED ? was : NotRunning.restoreFailed("came back as a shell: " + why));
                }
                return p.action() == RestorePlan.Action.RESUME ? fresh.withNotRunning(null) : fresh;
            });
            back.put(r.session(), r.withEnded(null)); // live again
        }
        // Sessions made on a server the newest snapshot did not come from (a boot, a crash healed):
        // the old server's sessions that are neither back nor live ended with it, and are kept.
        Tmux.Server was = newest.parsed().server(), now = run.server() != null ? run.server() : was;
        Instant at = Instant.now();
        java.util.Set<String> live = new java.util.HashSet<>(back.keySet());
        live.addAll(run.before().live());
        run.steps().stream().filter(RestorePlan.Step::live).forEach(st -> live.add(st.row().session()));
        EndedSessions.Turnover turnover = EndedSessions.of(newest.rows(), was, now, live, EndedSessions.leave(run.owed().rows(), run.before().forgotten()),
                server -> crashes.evidence(run.account().uid(), server), at, settings.keepFor());
        EndedSessions.log(run.account().name(), turnover);
        Map<String, SavedSession> ended = new HashMap<>();
        turnover.ended().forEach(r -> ended.put(r.session(), r));
        List<SavedSession> next = new ArrayList<>();
        for (SavedSession r : rows.values()) {
            String name = r.session();
            if (back.containsKey(name)) next.add(back.get(name));
            else if (ended.containsKey(name)) next.add(ended.get(name));
            else if (turnover.newServer() && live.contains(name)) next.add(turnover.aside(r)); // another session of its name is live
            else if (!turnover.newServer() || r.ended() == null) next.add(r);
        }
        back.forEach((name, r) -> {
            if (!rows.containsKey(name)) next.add(r);
        });
        run.history().commit(next, now, at, newest)
                .ifPresent(s -> Log.info("%s: recorded what came back in snapshot %s", run.account().name(), s.name()));
    }
}

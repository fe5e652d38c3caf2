import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bringing one user's planned sessions back, in the order that keeps a big boot quick and safe:
 * every missing session created at once (owed until it exists), conversations left waiting at
 * their gate for the Resumer, then what came back recorded and told in one line.
 */
public final class Restorer {
    /** One user's restore between creating its sessions and recording them. */
    public record UserRun(Accounts.Account account, Tmux tmux, History history, Selection wanted, List<RestorePlan.Step> steps,
                          List<RestorePlan.Step> back, List<Resumer.Waiting> waiting, int failed) {}

    /** How long, at most, the restore watches that each claude it started got going. */
    private static final Duration RESUME_CHECK = Duration.ofSeconds(3);

    private Restorer() {}

    /** Creates every session the plan brings back, owing each row until its session exists. */
    public static UserRun create(Accounts.Account account, Tmux tmux, History history, Pending owed, Selection wanted,
                                 List<RestorePlan.Step> steps, Settings settings) throws IOException {
        String user = account.name();
        List<RestorePlan.Step> toCreate = steps.stream().filter(st -> st.action() != RestorePlan.Action.SKIP).toList();
        owed.begin(wanted.rows(), toCreate.stream().map(RestorePlan.Step::row).toList()); // before anything is created
        List<Tmux.NewSession> specs = toCreate.stream().map(st -> new Tmux.NewSession(st.row().session(), st.cwd(),
                RestorePlan.paneEnv(st), RestorePlan.paneCommand(st, account, settings))).toList();
        List<RestorePlan.Step> back = new ArrayList<>();
        List<Resumer.Waiting> waiting = new ArrayList<>();
        Set<String> made = new HashSet<>();
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
            if (st.action() == RestorePlan.Action.RESUME) {
                Log.info("%s: restored '%s' in %s; conversation %s to resume in %s", user, name, st.cwd(), st.row().conversation(), st.startDir());
                waiting.add(new Resumer.Waiting(account, tmux, name, o.created().paneId(), o.created().panePid(), st.row().conversation(), st.lastActive()));
            } else if (st.row().hasConversation()) {
                // A conversation that did not come back is worth a warning; a plain shell is not.
                Log.warn("%s: restored '%s' in %s as a shell: %s", user, name, st.cwd(), st.why());
            } else {
                Log.info("%s: restored '%s' in %s as a shell: %s", user, name, st.cwd(), st.why());
            }
            back.add(st);
            made.add(name);
        }
        if (notTried > 0) Log.error("%s: tmux stopped answering; %d session(s) not tried, still owed: the next saves keep them", user, notTried);
        owed.settleAll(made);
        return new UserRun(account, tmux, history, wanted, steps, back, waiting, toCreate.size() - back.size());
    }

    /**
     * After the resumes: which started claudes fell through at once (and why), the rows recorded,
     * one line for the journal. Returns how many rows failed.
     */
    public static int finish(UserRun run, Resumer.Result resumed, Settings settings) throws Exception {
        String user = run.account().name();
        List<String> pressed = run.waiting().stream().filter(resumed.pressed()::contains).map(Resumer.Waiting::session).toList();
        Map<String, String> didNotStart = ResumeCheck.failedToStart(run.tmux(), run.account(), pressed, settings.claude(), RESUME_CHECK);
        didNotStart.forEach((name, why) -> Log.warn("%s: '%s' came back as a shell: %s; its conversation is kept, not running", user, name, why));
        record(run, didNotStart);
        long live = run.steps().stream().filter(RestorePlan.Step::live).count();
        int waitingForEnter = run.waiting().size() - pressed.size();
        if (run.back().isEmpty() && run.failed() == 0) {
            Log.info("%s: nothing to restore: %d of %d saved sessions are live%s", user, live, run.steps().size(), live < run.steps().size() ? ", the rest skipped" : "");
        } else {
            Log.info("%s: %d sessions back (of %d saved, from %s), %d resumed, %d waiting for Enter%s, %d were live%s", user, run.back().size(),
                    run.steps().size(), run.wanted().from(), pressed.size() - didNotStart.size(), waitingForEnter,
                    waitingForEnter == 0 || resumed.why().isEmpty() ? "" : " (" + resumed.why() + ")", live, run.failed() == 0 ? "" : ", " + run.failed() + " failed");
        }
        return run.failed() + run.wanted().problems().size();
    }

    /**
     * The sessions that came back go into the newest snapshot, each with its conversation, marked
     * not running when it came back as a shell: the next save then keeps the id instead of
     * dropping it with the process that never started. A pane waiting for Enter keeps it running.
     */
    private static void record(UserRun run, Map<String, String> didNotStart) throws Exception {
        Map<String, SnapshotFormat.Row> rows = new LinkedHashMap<>();
        run.history().readNewest().rows().forEach(r -> rows.put(r.session(), r));
        for (RestorePlan.Step st : run.back()) {
            SnapshotFormat.Row r = st.row();
            String lost = st.action() == RestorePlan.Action.RESUME ? didNotStart.get(r.session()) : st.lost();
            if (lost != null) r = r.withNotRunning(SnapshotFormat.RESTORE_FAILED + "came back as a shell: " + lost);
            else if (st.action() == RestorePlan.Action.RESUME) r = r.withNotRunning(null);
            rows.put(r.session(), r);
        }
        run.history().commit(new ArrayList<>(rows.values()), Instant.now())
                .ifPresent(s -> Log.info("%s: recorded what came back in snapshot %s", run.account().name(), s.name()));
    }
}

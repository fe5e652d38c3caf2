import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

/**
 * Heal's later turn for a live session a restore left in part: each conversation whose pane no
 * restore made (marked {@link SnapshotFormat#NOT_RECREATED}: tmux refused it, or the restore was
 * killed first; never the user's doing), or that a killed server took from a session of the same
 * name she has made since ({@link EndedSessions#SERVER_KILLED}), comes back in a window of its own
 * in that session, once.
 * The newest snapshot then names the new pane, so the next save knows it by which pane it is: a
 * claude that fails there is kept as exited, and never brought back again by this.
 */
public final class MissingPanes {
    private MissingPanes() {}

    /**
     * Brings back what is missing for one user of heal's {@code world} (or says what it would);
     * returns how many failed. Plans each pane as a restore would ({@link RestorePlan#planPane}).
     */
    public static int heal(HealPlan.World world, Tmux tmux, History history, Settings settings, boolean dryRun) throws IOException {
        Accounts.Account account = world.account();
        String user = account.name();
        List<SnapshotFormat.Row> rows = world.newest();
        if (rows.stream().flatMap(r -> r.panes().stream()).noneMatch(EndedSessions::healedInPlace)) return 0;
        Tmux.Listing live = tmux.listSessions();
        if (live.status() != Tmux.Status.OK) return 0;
        List<SnapshotFormat.Row> next = new ArrayList<>();
        int made = 0, failed = 0;
        for (SnapshotFormat.Row row : rows) {
            Optional<Tmux.Session> session = live.sessions().stream().filter(s -> s.name().equals(row.session())).findFirst();
            SnapshotFormat.Row now = row;
            for (SnapshotFormat.Pane p : row.panes()) {
                if (session.isEmpty() || !EndedSessions.healedInPlace(p)) continue;
                String why = SnapshotFormat.NOT_RECREATED.equals(p.notRunning()) ? "a restore did not make its pane" : "its tmux server was killed";
                RestorePlan.PanePlan plan = RestorePlan.planPane(account, row.session(), p, world.running(), new HashMap<>(), false,
                        world.conversations(), account.home(), List.of());
                if (plan.action() != RestorePlan.Action.RESUME) {
                    // Running elsewhere again is no news; a transcript or directory gone is.
                    if (plan.lost() != null) Log.warn("%s: conversation %s of session '%s' (%s) cannot be resumed: %s",
                            user, p.conversation(), row.session(), why, plan.why());
                    continue;
                }
                if (dryRun) {
                    Log.info("%s: would bring back conversation %s of session '%s' in a window of its own (%s)",
                            user, p.conversation(), row.session(), why);
                    continue;
                }
                List<String> args = new ArrayList<>(List.of("new-window", "-d", "-P", "-F", "#{pane_id} #{window_index} #{start_time}",
                        "-t", session.get().id() + ":", "-c", Tmux.literal(plan.cwd().toString())));
                RestorePlan.paneEnv(plan).forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
                args.add("--");
                args.addAll(RestorePlan.resumeCommand(plan.startDir(), p.conversation(), p.claudeOptions(), account, settings, false));
                Exec.Result r = tmux.run(args.toArray(String[]::new));
                String[] f = r.out().strip().split(" ");
                if (!r.ok() || f.length < 3) {
                    Log.error("%s: could not bring back conversation %s of session '%s': %s", user, p.conversation(), row.session(),
                            r.timedOut() ? "tmux timed out" : r.firstErrorLine());
                    failed++;
                    continue;
                }
                Log.info("%s: brought back conversation %s of session '%s' in window %s (%s)",
                        user, p.conversation(), row.session(), f[1], why);
                now = moved(now, p, new SnapshotFormat.Pane(Integer.parseInt(f[1]), 0, true, plan.cwd().toString(), p.conversation(),
                        p.conversationCwd(), p.claudeConfig(), null, p.claudeOptions(), List.of(), f[0] + "@" + f[2]));
                made++;
            }
            next.add(now);
        }
        if (made > 0) history.commit(next, Instant.now());
        return failed;
    }

    /** {@code row} with {@code from} taken out of its window and {@code to}, in a window of its own, added. */
    static SnapshotFormat.Row moved(SnapshotFormat.Row row, SnapshotFormat.Pane from, SnapshotFormat.Pane to) {
        List<SnapshotFormat.Window> windows = new ArrayList<>();
        for (SnapshotFormat.Window w : row.windows()) {
            List<SnapshotFormat.Pane> panes = w.panes().stream().filter(x -> !x.equals(from)).toList();
            if (!panes.isEmpty()) windows.add(w.withPanes(panes));
        }
        // The rest of the panes kept aside may sit at the index tmux just gave: they move past it.
        int free = Math.max(to.window(), windows.stream().mapToInt(SnapshotFormat.Window::index).max().orElse(0)) + 1;
        windows.replaceAll(w -> w.index() != to.window() ? w : new SnapshotFormat.Window(free, w.name(), w.autoName(), w.layout(), w.active(),
                w.zoomed(), w.panes().stream().map(x -> new SnapshotFormat.Pane(free, x.index(), x.active(), x.cwd(), x.conversation(),
                x.conversationCwd(), x.claudeConfig(), x.notRunning(), x.claudeOptions(), x.program(), x.tmuxPane())).toList()));
        windows.add(new SnapshotFormat.Window(to.window(), "", true, "", false, false, List.of(to)));
        windows.sort(java.util.Comparator.comparingInt(SnapshotFormat.Window::index));
        return SnapshotFormat.Row.of(row.session(), windows);
    }
}

package restore;

import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.NotRunning;
import base.Accounts;
import store.EndedSessions;
import base.Exec;
import store.History;
import base.Log;
import base.Settings;
import store.SnapshotFormat;
import tmux.PaneScript;
import tmux.Tmux;
import keep.PutBack;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Heal's later turn for a live session a restore left in part: each conversation whose pane no
 * restore made (marked {@link SnapshotFormat#NOT_RECREATED}: tmux refused it, or the restore was
 * killed first; never the user's doing), or that a killed server took from a session of the same
 * name she has made since ({@link EndedSessions#SERVER_KILLED}), comes back in a window of its own
 * in that session, once.
 * The newest snapshot then names the new pane, so the next save knows it by which pane it is: a
 * conversation whose assistant fails there is kept as exited, and never brought back again by this.
 */
public final class MissingPanes {
    private MissingPanes() {}

    /**
     * Heal's turn: brings back what is missing for one user of the newest snapshot's {@code rows}
     * (or says what it would); {@code running}: where her conversations run now. Returns how many
     * failed. Plans each pane as a restore would ({@link RestorePlan#planPane}).
     */
    public static int heal(Accounts.Account account, Tmux tmux, History history, List<SavedSession> rows, java.util.function.Supplier<Map<String, String>> running,
                           Settings settings, PutBack putBack, boolean dryRun, List<Resumer.Waiting> gated) throws IOException {
        return bringBack(account, tmux, history, rows, running, settings, (row, p) -> EndedSessions.healedInPlace(p), false, putBack, dryRun, gated);
    }

    /**
     * A restore that names a live session (--session NAME, --find NAME or ID): the conversations
     * the newest snapshot keeps aside in it (a restore did not make their panes, or a server took
     * them) and the request asks for come back, each in a window of its own, however they ended.
     */
    public static int asked(Accounts.Account account, Tmux tmux, History history, Selection wanted, Map<String, String> running,
                            Settings settings, PutBack putBack, boolean dryRun, List<Resumer.Waiting> gated) throws IOException {
        java.util.Set<String> named = new java.util.HashSet<>();
        wanted.rows().forEach(r -> named.add(r.session()));
        return bringBack(account, tmux, history, history.readNewest().rows(), () -> running, settings,
                (row, p) -> named.contains(row.session()) && p.hasConversation() && EndedSessions.keptAside(p) && wanted.asked(p), true, putBack, dryRun,
                gated);
    }

    /**
     * Makes again, in a window of its own in its live session, each pane of {@code rows} that
     * {@code which} picks, planned as a restore would ({@code asked}: as one asked for by name);
     * the newest snapshot then names the new pane, which waits at its gate in {@code gated} for
     * the {@link Resumer}. Returns how many failed.
     */
    private static int bringBack(Accounts.Account account, Tmux tmux, History history, List<SavedSession> rows,
                                 java.util.function.Supplier<Map<String, String>> running,
                                 Settings settings, java.util.function.BiPredicate<SavedSession, SavedPane> which,
                                 boolean asked, PutBack putBack, boolean dryRun, List<Resumer.Waiting> gated) throws IOException {
        String user = account.name();
        if (rows.stream().noneMatch(r -> r.panes().stream().anyMatch(p -> which.test(r, p)))) return 0;
        Tmux.Listing live = tmux.listSessions();
        if (live.status() != Tmux.Status.OK) return 0;
        List<SavedSession> next = new ArrayList<>();
        int made = 0, failed = 0;
        for (SavedSession row : rows) {
            Optional<Tmux.Session> session = live.sessions().stream().filter(s -> s.name().equals(row.session())).findFirst();
            SavedSession now = row;
            for (SavedPane p : row.panes()) {
                if (session.isEmpty() || !which.test(row, p)) continue;
                String why = NotRunning.NOT_RECREATED.equals(p.notRunning()) ? "a restore did not make its pane"
                        : asked ? "asked for; it was kept aside in this session" : "its tmux server was killed";
                RestorePlan.PanePlan plan = RestorePlan.planPane(account, row.session(), p, running.get(), new HashMap<>(), asked,
                        account.home(), List.of(), putBack);
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
                Tmux.NewWindow w = tmux.newWindow(session.get().id(), new Tmux.PaneSpec(plan.cwd(), RestorePlan.paneEnv(plan),
                        RestorePlan.resumeCommand(plan.startDir(), p, account, settings, true, why + PaneScript.BROUGHT_BACK)));
                if (!w.ok()) {
                    Log.error("%s: could not bring back conversation %s of session '%s': %s", user, p.conversation(), row.session(), w.error());
                    failed++;
                    continue;
                }
                gated.add(new Resumer.Waiting(account, tmux, row.session(), " window " + w.pane().window(), w.pane().id(), w.pane().pid(), p, plan.lastActive()));
                Log.info("%s: brought back conversation %s of session '%s' in window %d (%s)", user, p.conversation(), row.session(), w.pane().window(), why);
                now = moved(now, p, p.moved(w.pane().window(), 0).active(true).cwd(plan.cwd().toString())
                        .withNotRunning(null).program(List.of()).tmuxPane(w.pane().key()));
                made++;
            }
            next.add(now);
        }
        if (made > 0) history.commit(next, Instant.now());
        return failed;
    }

    /** {@code row} with {@code from} taken out of its window and {@code to}, in a window of its own, added. */
    public static SavedSession moved(SavedSession row, SavedPane from, SavedPane to) {
        List<SavedWindow> windows = new ArrayList<>();
        for (SavedWindow w : row.windows()) {
            List<SavedPane> panes = w.panes().stream().filter(x -> !x.equals(from)).toList();
            if (!panes.isEmpty()) windows.add(w.withPanes(panes));
        }
        // The rest of the panes kept aside may sit at the index tmux just gave: they move past it.
        int free = Math.max(to.window(), windows.stream().mapToInt(SavedWindow::index).max().orElse(0)) + 1;
        windows.replaceAll(w -> w.index() != to.window() ? w : w.moved(free).withPanes(w.panes().stream().map(x -> x.moved(free, x.index())).toList()));
        windows.add(SavedWindow.at(to.window()).autoNamed("").withPanes(List.of(to)));
        windows.sort(java.util.Comparator.comparingInt(SavedWindow::index));
        return SavedSession.of(row.session(), windows);
    }
}

package save;

import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.NotRunning;
import assistant.Assistant;
import assistants.Assistants;
import base.ConversationId;
import store.EndedSessions;
import store.SnapshotFormat;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a save records for one user: the live sessions, each pane with the conversation running
 * in it; a live pane whose assistant died (the shell lives on) keeps the conversation it had,
 * marked not running, until the pane runs another one or the pane is gone (closed: the user's
 * choice); then the rows a restore still owes whose session is not live.
 */
public final class NextSnapshot {
    /** A conversation kept in a live pane though not running there, for the log. */
    public record Kept(String session, SavedPane pane) {}

    /** The rows to write, and which conversations and rows were kept though not running or not live (for the log). */
    public record Result(List<SavedSession> rows, List<Kept> notRunning, List<SavedSession> owed) {}

    private NextSnapshot() {}

    public static Result compose(List<SavedSession> live, List<SavedSession> previous, List<SavedSession> owed, Instant now) {
        return compose(live, previous, owed, Set.of(), now);
    }

    /**
     * {@code crashed}: the conversations (normal form) whose assistant left the evidence of a kill behind
     * (killed), the evidence that tells a crash from the user's exit.
     */
    public static Result compose(List<SavedSession> live, List<SavedSession> previous, List<SavedSession> owed,
                                 Set<String> crashed, Instant now) {
        return compose(live, previous, owed, crashed, EndedSessions.NONE, now);
    }

    /**
     * As above, with what a new tmux server means for the previous rows ({@code turnover}): the
     * sessions that ended with the old one are kept after the live ones, and a live session that
     * only shares a name with one of them keeps its conversations aside; none of its panes is
     * one of the old server's.
     */
    public static Result compose(List<SavedSession> live, List<SavedSession> previous, List<SavedSession> owed,
                                 Set<String> crashed, EndedSessions.Turnover turnover, Instant now) {
        return compose(live, previous, owed, crashed, turnover, Map.of(), now);
    }

    /**
     * As above, knowing the live panes (by key) where an assistant runs whose conversation cannot
     * be named ({@code unnamed}): the conversation a pane had is no longer there, by its user's
     * doing (exited), whether or not its assistant tells a kill from an exit.
     */
    public static Result compose(List<SavedSession> live, List<SavedSession> previous, List<SavedSession> owed,
                                 Set<String> crashed, EndedSessions.Turnover turnover, Map<String, String> unnamed, Instant now) {
        if (turnover.newServer()) previous = List.of();
        Set<String> runningNow = new HashSet<>();
        Set<String> liveNames = new HashSet<>();
        for (SavedSession r : live) {
            liveNames.add(r.session());
            r.conversations().forEach(p -> runningNow.add(ConversationId.normal(p.conversation())));
        }
        Map<String, SavedSession> before = new HashMap<>(), owedByName = new HashMap<>();
        previous.forEach(r -> before.putIfAbsent(r.session(), r));
        owed.forEach(r -> owedByName.putIfAbsent(r.session(), r));

        List<SavedSession> rows = new ArrayList<>(), keptOwed = new ArrayList<>();
        List<Kept> notRunning = new ArrayList<>();
        // The id must not be lost with the process: keep it, and say since when it is not running.
        String noticed = " (noticed " + now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ")";
        for (SavedSession r : live) {
            SavedSession was = before.get(r.session());
            List<SavedPane> aside = turnover.aside().getOrDefault(r.session(), List.of());
            if (was == null) {
                rows.add(withNotRecreated(r, concat(aside, notRecreated(null, owedByName.get(r.session()))), runningNow));
                continue;
            }
            SavedSession next = r.withPanes(p -> {
                SavedPane had = samePane(was, r, p);
                if (p.hasConversation() || had == null || !had.hasConversation() || runningNow.contains(ConversationId.normal(had.conversation()))) return p;
                String other = p.tmuxPane() == null ? null : unnamed.get(p.tmuxPane());
                NotRunning why = other != null ? NotRunning.exited(had.assistant() + " no longer runs in this pane: another " + other
                        + " runs there now" + noticed)
                        : had.notRunning() != null ? had.notRunning() : stoppedWhy(had, p, crashed, noticed);
                runningNow.add(ConversationId.normal(had.conversation())); // one pane per conversation
                SavedPane kept = p.withConversationOf(had, why);
                notRunning.add(new Kept(r.session(), kept));
                return kept;
            });
            rows.add(withNotRecreated(next, concat(aside, notRecreated(was, owedByName.get(r.session()))), runningNow));
        }
        for (SavedSession r : turnover.ended()) {
            if (!owedByName.containsKey(r.session()) && liveNames.add(r.session())) rows.add(r);
        }
        for (SavedSession r : owed) {
            if (liveNames.add(r.session())) {
                rows.add(r);
                keptOwed.add(r);
            }
        }
        return new Result(rows, notRunning, keptOwed);
    }

    /**
     * The panes a restore did not make, so not live and not the user's doing: those the previous
     * snapshot keeps aside (a restore did not make them, or their server took them), and those of
     * a row still owed for this (now live) session: a restore stopped before it made them.
     */
    static List<SavedPane> notRecreated(SavedSession was, SavedSession owed) {
        List<SavedPane> out = new ArrayList<>();
        if (was != null) was.panes().stream().filter(p -> p.hasConversation() && EndedSessions.keptAside(p)).forEach(out::add);
        if (owed != null) owed.panes().stream().filter(SavedPane::wanted).map(p -> p.withNotRunning(NotRunning.NOT_RECREATED)).forEach(out::add);
        return out;
    }

    private static List<SavedPane> concat(List<SavedPane> a, List<SavedPane> b) {
        if (a.isEmpty()) return b;
        List<SavedPane> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /**
     * Why a conversation that ran in pane {@code p} runs no more: killed, when its assistant left
     * the evidence of a kill; exited, when its assistant leaves such evidence and left none (her
     * choice); stopped, when its assistant leaves none at all (kept wanted: a kill must not lose it).
     */
    private static NotRunning stoppedWhy(SavedPane had, SavedPane p, Set<String> crashed, String noticed) {
        String where = " in this " + (p.window() < 0 ? "session" : "pane") + noticed;
        if (crashed.contains(ConversationId.normal(had.conversation()))) {
            return NotRunning.killed(had.assistant() + " was killed, not ended by its user (the evidence it left remains)" + noticed);
        }
        if (Assistants.named(had.assistant()).map(Assistant::tellsKillFromExit).orElse(false)) {
            return NotRunning.exited(had.assistant() + " no longer runs" + where);
        }
        return NotRunning.stopped(had.assistant() + " no longer runs" + where + "; it leaves no evidence of a kill, so the next boot or blanket restore resumes it");
    }

    /**
     * {@code next} with the conversations of {@code candidates} that run nowhere now, each kept in
     * a pane of one window after the live ones, until it runs again somewhere: a live session is
     * left alone by restores, and the id must not be lost.
     */
    static SavedSession withNotRecreated(SavedSession next, List<SavedPane> candidates, Set<String> runningNow) {
        if (!next.hasLayout()) return next;
        List<SavedPane> lost = candidates.stream()
                .filter(p -> runningNow.add(ConversationId.normal(p.conversation())))
                .toList();
        if (lost.isEmpty()) return next;
        int index = next.windows().stream().mapToInt(SavedWindow::index).max().orElse(0) + 1;
        List<SavedPane> panes = new ArrayList<>();
        for (int i = 0; i < lost.size(); i++) {
            SavedPane p = lost.get(i);
            panes.add(p.moved(index, i).active(i == 0).tmuxPane(null));
        }
        List<SavedWindow> windows = new ArrayList<>(next.windows());
        windows.add(SavedWindow.at(index).named("not recreated").withPanes(panes));
        return SavedSession.of(next.session(), windows);
    }

    /**
     * The pane of {@code was} that {@code p} (of the live {@code now}) is: the same live pane
     * when both say which (a pane that took a closed one's place is not it); else, as after a
     * restore, the same window and pane index; a row saved without its layout had one pane, the
     * session's active one.
     */
    static SavedPane samePane(SavedSession was, SavedSession now, SavedPane p) {
        if (!was.hasLayout()) return isMain(now, p) ? was.panes().get(0) : null;
        if (p.tmuxPane() != null && was.panes().stream().anyMatch(x -> x.tmuxPane() != null)) {
            return was.panes().stream().filter(x -> p.tmuxPane().equals(x.tmuxPane())).findFirst().orElse(null);
        }
        return was.panes().stream().filter(x -> x.window() == p.window() && x.index() == p.index()).findFirst().orElse(null);
    }

    /** Whether {@code p} is the session's active pane (an older snapshot's row described that one). */
    private static boolean isMain(SavedSession row, SavedPane p) {
        if (!row.hasLayout()) return true;
        return row.windows().stream().anyMatch(w -> w.active() && w.index() == p.window()) && p.active();
    }
}

package store;

import base.Log;
import tmux.Tmux;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The sessions that died with a user's tmux server. A save (or a restore) that finds a new server
 * in place of the one the newest snapshot was listed from knows that every session of the old
 * one that is not live ended with it: each is kept, marked {@link Ended} with the
 * crash evidence for that server if there is any, never dropped because she reconnected before
 * the next save. With evidence it is wanted (heal, boot and blanket restores bring it back);
 * without, nobody can tell a crash from her kill-server, so only a restore that names it does.
 * A session kept so stays kept until a session of its name is live again, she forgets it, or it
 * is older than retention's days (history keeps it after that).
 */
public final class EndedSessions {
    /**
     * What a new server means for the rows of the snapshot before it: {@code ended}, the rows to
     * keep though not live (those ended now and those kept from before); {@code aside}, by live
     * session name, the conversations of a session of that name that ended with the old server
     * (she made a new session of the same name): kept in the live row; {@code end}, the old
     * server's end when it is new to this snapshot, with the rows it took ({@code now}) and the
     * conversations it put aside ({@code asideNow}), each marked {@code reason}.
     */
    public record Turnover(boolean newServer, List<SavedSession> ended, Map<String, List<SavedPane>> aside,
                           Ended end, List<SavedSession> now, NotRunning reason, List<SavedPane> asideNow) {
        /**
         * {@code r}, a session of the old server whose name a live session has now, with its running
         * conversations marked as ended with the server: the next save keeps them in the live row.
         */
        public SavedSession aside(SavedSession r) {
            return reason == null ? r : r.withPanes(p -> p.wanted() && !keptAside(p) ? p.withNotRunning(reason) : p);
        }
    }

    /** The same server (or none known): nothing ended with it. */
    public static final Turnover NONE = new Turnover(false, List.of(), Map.of(), null, List.of(), null, List.of());

    /** A conversation that ran in a session its server took with it, and the evidence says killed: a restore brings it back. */
    public static final String SERVER_KILLED = "killed: its tmux server was killed";
    /** ... and nobody can tell: left to a restore that names it, like the user's own exit. */
    public static final String SERVER_ENDED = "exited: its tmux server ended with no crash on record";

    private EndedSessions() {}

    /**
     * {@code previous}: the newest snapshot's rows, listed from server {@code was} (null: not
     * known); {@code now}: the server listed now (null: not known); {@code live}: the sessions
     * live now by name; {@code leave}: names kept by other means (owed) or let go (forgotten);
     * {@code crash}: the evidence that a server was killed, in words; {@code keepFor}: how long
     * a session kept so stays in the newest snapshot.
     */
    public static Turnover of(List<SavedSession> previous, Tmux.Server was, Tmux.Server now, Set<String> live, Set<String> leave,
                              Function<Tmux.Server, Optional<String>> crash, Instant at, Duration keepFor) {
        // By key (pid, start, boot): a server whose cgroup one record knows and the other does not is the same server.
        boolean newServer = was != null && now != null && !was.key().equals(now.key());
        boolean keptBefore = previous.stream().anyMatch(r -> r.ended() != null);
        if (!newServer && !keptBefore) return NONE;
        Ended end = null;
        if (newServer) end = new Ended(was.key(), at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS), crash.apply(was).orElse(null));
        List<SavedSession> ended = new ArrayList<>(), newly = new ArrayList<>();
        Map<String, List<SavedPane>> aside = new LinkedHashMap<>();
        List<SavedPane> asideNow = new ArrayList<>();
        for (SavedSession r : previous) {
            if (leave.contains(r.session())) continue;
            if (r.ended() != null) {
                if (live.contains(r.session())) aside.computeIfAbsent(r.session(), k -> new ArrayList<>()).addAll(keptAside(r, reason(r.ended())));
                else if (!r.ended().noticed().plus(keepFor).isBefore(at)) ended.add(r);
                continue;
            }
            if (!newServer) continue; // the same server: a session not live was closed, the user's choice
            if (live.contains(r.session())) {
                List<SavedPane> kept = keptAside(r, reason(end));
                aside.computeIfAbsent(r.session(), k -> new ArrayList<>()).addAll(kept);
                asideNow.addAll(kept);
                continue;
            }
            final NotRunning why = reason(end);
            SavedSession e = r.withPanes(p -> p.running() ? p.withNotRunning(why) : p).withEnded(end);
            ended.add(e);
            newly.add(e);
        }
        return new Turnover(newServer, ended, aside, newly.isEmpty() && asideNow.isEmpty() ? null : end, newly, end == null ? null : reason(end),
                asideNow);
    }

    /** {@code r}, ended with no crash on record when the save looked, with the evidence found since: wanted again. */
    public static SavedSession crashed(SavedSession r, String evidence) {
        Ended e = new Ended(r.ended().server(), r.ended().noticed(), evidence);
        NotRunning why = reason(e);
        return r.withPanes(p -> is(p.notRunning(), SERVER_ENDED) ? p.withNotRunning(why) : p).withEnded(e);
    }

    /** Why a conversation of a session that ended with its server is not running: who ended the server, if anyone can tell. */
    static NotRunning reason(Ended e) {
        return NotRunning.of((e.crashed() ? SERVER_KILLED + " by " + e.crash() : SERVER_ENDED) + " (noticed " + e.noticed() + ")");
    }

    /** Whether {@code why} is the reason {@code start} begins (SERVER_KILLED, SERVER_ENDED). */
    private static boolean is(NotRunning why, String start) {
        return why != null && why.text().startsWith(start);
    }

    /** The names a turnover leaves to others: rows owed (kept as owed) and sessions forgotten on purpose (let go). */
    public static Set<String> leave(List<SavedSession> owed, Set<String> forgotten) {
        Set<String> out = new java.util.HashSet<>(forgotten);
        owed.forEach(r -> out.add(r.session()));
        return out;
    }

    /**
     * As above, and the sessions of {@code previous} that ended with a killed server heal has
     * already brought back ({@code healed}: by server key): one not live now was closed by her
     * since (or is owed), and must not come back at the next boot. History keeps it.
     */
    public static Set<String> leave(List<SavedSession> owed, Set<String> forgotten, List<SavedSession> previous,
                                    java.util.function.Predicate<String> healed) {
        Set<String> out = leave(owed, forgotten);
        previous.stream().filter(r -> r.ended() != null && r.ended().crashed() && healed.test(r.ended().server())).forEach(r -> out.add(r.session()));
        return out;
    }

    /** One line for the journal when a server's end is new: which server, what it took, and how each comes back. */
    public static void log(String user, Turnover t) {
        if (t.end() == null) return;
        List<String> what = new ArrayList<>();
        if (!t.now().isEmpty()) {
            what.add(t.now().size() + " session(s) " + String.join(", ", t.now().stream().map(r -> "'" + r.session() + "'").toList()) + ", marked ended with it");
        }
        if (!t.asideNow().isEmpty()) {
            what.add(t.asideNow().size() + " conversation(s) " + String.join(", ", t.asideNow().stream().map(SavedPane::conversation).toList())
                    + " of sessions whose names live sessions have now, kept aside in them");
        }
        if (t.end().crashed()) {
            Log.warn("%s: %s; kept its %s: heal brings them back (t3-restore --heal)", user, t.end().describe(), String.join(", and ", what));
        } else {
            Log.warn("%s: %s (a kill -9, or her kill-server); kept its %s, not restored by boot or blanket restores: "
                    + "t3-restore --user %s --session NAME (or --find NAME or ID) brings one back", user, t.end().describe(), String.join(", and ", what), user);
        }
    }

    /**
     * The conversations of {@code r} worth keeping in a live session of its name: those that were
     * running or wanted (a crash of its own, a restore that failed), marked as ended with the
     * server ({@code reason}), and those already kept aside; not those the user quit (history has them).
     */
    private static List<SavedPane> keptAside(SavedSession r, NotRunning reason) {
        List<SavedPane> out = new ArrayList<>();
        for (SavedPane p : r.conversations()) {
            if (keptAside(p)) out.add(p);
            else if (p.wanted()) out.add(p.withNotRunning(reason));
        }
        return out;
    }

    /** A pane kept in a live session though no pane of it is live: a restore did not make it, or its server took it. */
    public static boolean keptAside(SavedPane p) {
        NotRunning why = p.notRunning();
        return NotRunning.NOT_RECREATED.equals(why) || is(why, SERVER_KILLED) || is(why, SERVER_ENDED);
    }

    /** A pane heal makes again in its live session, once: a restore did not make it, or a crash of its server took it. */
    public static boolean healedInPlace(SavedPane p) {
        NotRunning why = p.notRunning();
        return p.hasConversation() && (NotRunning.NOT_RECREATED.equals(why) || is(why, SERVER_KILLED));
    }
}

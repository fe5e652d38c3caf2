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
 * one that is not live ended with it: each is kept, marked {@link SnapshotFormat.Ended} with the
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
     * server's end when it is new to this snapshot, with the rows it took ({@code now}).
     */
    public record Turnover(boolean newServer, List<SnapshotFormat.Row> ended, Map<String, List<SnapshotFormat.Pane>> aside,
                           SnapshotFormat.Ended end, List<SnapshotFormat.Row> now, String reason) {
        /**
         * {@code r}, a session of the old server whose name a live session has now, with its running
         * conversations marked as ended with the server: the next save keeps them in the live row.
         */
        public SnapshotFormat.Row aside(SnapshotFormat.Row r) {
            return reason == null ? r : r.withPanes(p -> p.running() ? p.withNotRunning(reason) : p);
        }
    }

    /** The same server (or none known): nothing ended with it. */
    public static final Turnover NONE = new Turnover(false, List.of(), Map.of(), null, List.of(), null);

    /** A conversation that ran in a session its server took with it, and the evidence says killed: a restore brings it back. */
    public static final String SERVER_KILLED = SnapshotFormat.KILLED + "its tmux server was killed";
    /** ... and nobody can tell: left to a restore that names it, like the user's own exit. */
    public static final String SERVER_ENDED = SnapshotFormat.EXITED + "its tmux server ended with no crash on record";

    private EndedSessions() {}

    /**
     * {@code previous}: the newest snapshot's rows, listed from server {@code was} (null: not
     * known); {@code now}: the server listed now (null: not known); {@code live}: the sessions
     * live now by name; {@code leave}: names kept by other means (owed) or let go (forgotten);
     * {@code crash}: the evidence that a server was killed, in words; {@code keepFor}: how long
     * a session kept so stays in the newest snapshot.
     */
    public static Turnover of(List<SnapshotFormat.Row> previous, Tmux.Server was, Tmux.Server now, Set<String> live, Set<String> leave,
                              Function<Tmux.Server, Optional<String>> crash, Instant at, Duration keepFor) {
        boolean newServer = was != null && now != null && !was.equals(now);
        boolean keptBefore = previous.stream().anyMatch(r -> r.ended() != null);
        if (!newServer && !keptBefore) return NONE;
        SnapshotFormat.Ended end = null;
        String reason = null;
        if (newServer) {
            String evidence = crash.apply(was).orElse(null);
            end = new SnapshotFormat.Ended(was.key(), at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS), evidence);
            reason = (evidence != null ? SERVER_KILLED + " by " + evidence : SERVER_ENDED) + " (noticed " + end.noticed() + ")";
        }
        List<SnapshotFormat.Row> ended = new ArrayList<>(), newly = new ArrayList<>();
        Map<String, List<SnapshotFormat.Pane>> aside = new LinkedHashMap<>();
        for (SnapshotFormat.Row r : previous) {
            if (leave.contains(r.session())) continue;
            if (r.ended() != null) {
                if (live.contains(r.session())) aside.computeIfAbsent(r.session(), k -> new ArrayList<>()).addAll(keptAside(r, null));
                else if (!r.ended().noticed().plus(keepFor).isBefore(at)) ended.add(r);
                continue;
            }
            if (!newServer) continue; // the same server: a session not live was closed, the user's choice
            if (live.contains(r.session())) {
                aside.computeIfAbsent(r.session(), k -> new ArrayList<>()).addAll(keptAside(r, reason));
                continue;
            }
            final String why = reason;
            SnapshotFormat.Row e = r.withPanes(p -> p.running() ? p.withNotRunning(why) : p).withEnded(end);
            ended.add(e);
            newly.add(e);
        }
        return new Turnover(newServer, ended, aside, newly.isEmpty() ? null : end, newly, reason);
    }

    /** The names a turnover leaves to others: rows owed (kept as owed) and sessions forgotten on purpose (let go). */
    public static Set<String> leave(List<SnapshotFormat.Row> owed, Set<String> forgotten) {
        Set<String> out = new java.util.HashSet<>(forgotten);
        owed.forEach(r -> out.add(r.session()));
        return out;
    }

    /** One line for the journal when a server's end is new: which server, what it took, and how each comes back. */
    public static void log(String user, Turnover t) {
        if (t.end() == null) return;
        String names = String.join(", ", t.now().stream().map(r -> "'" + r.session() + "'").toList());
        if (t.end().crashed()) {
            Log.warn("%s: %s; kept its %d session(s) %s, marked ended with it: heal brings them back (t3-restore --heal)",
                    user, t.end().describe(), t.now().size(), names);
        } else {
            Log.warn("%s: %s (a kill -9, or her kill-server); kept its %d session(s) %s, marked ended with it, not restored by boot or "
                    + "blanket restores: t3-restore --user %s --session NAME (or --find NAME) brings one back", user, t.end().describe(),
                    t.now().size(), names, user);
        }
    }

    /**
     * The conversations of {@code r} worth keeping in a live session of its name: those that were
     * running (marked {@code reason}, when given) and those already kept aside; not those the
     * user quit (history has them).
     */
    private static List<SnapshotFormat.Pane> keptAside(SnapshotFormat.Row r, String reason) {
        List<SnapshotFormat.Pane> out = new ArrayList<>();
        for (SnapshotFormat.Pane p : r.conversations()) {
            if (p.running() && reason != null) out.add(p.withNotRunning(reason));
            else if (keptAside(p)) out.add(p);
        }
        return out;
    }

    /** A pane kept in a live session though no pane of it is live: a restore did not make it, or its server took it. */
    public static boolean keptAside(SnapshotFormat.Pane p) {
        String why = p.notRunning();
        return why != null && (why.equals(SnapshotFormat.NOT_RECREATED) || why.startsWith(SERVER_KILLED) || why.startsWith(SERVER_ENDED));
    }

    /** A pane heal makes again in its live session, once: a restore did not make it, or a crash of its server took it. */
    public static boolean healedInPlace(SnapshotFormat.Pane p) {
        String why = p.notRunning();
        return p.hasConversation() && why != null && (why.equals(SnapshotFormat.NOT_RECREATED) || why.startsWith(SERVER_KILLED));
    }
}

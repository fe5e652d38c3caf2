import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a save records for one user: the live sessions, each with the conversation running in
 * it; a live session whose claude died (the shell lives on) keeps the conversation its previous
 * row had, marked not running, until the pane runs another one or the session is gone; then the
 * rows a restore still owes whose session is not live.
 */
public final class NextSnapshot {
    /** The rows to write, and which of them were kept though not live or not running (for the log). */
    public record Result(List<SnapshotFormat.Row> rows, List<SnapshotFormat.Row> notRunning, List<SnapshotFormat.Row> owed) {}

    private NextSnapshot() {}

    public static Result compose(List<SnapshotFormat.Row> live, List<SnapshotFormat.Row> previous, List<SnapshotFormat.Row> owed, Instant now) {
        return compose(live, previous, owed, Set.of(), now);
    }

    /**
     * {@code crashed}: the conversations (lower case) whose claude left its live record behind
     * (killed), the evidence that tells a crash from the user's exit.
     */
    public static Result compose(List<SnapshotFormat.Row> live, List<SnapshotFormat.Row> previous, List<SnapshotFormat.Row> owed,
                                 Set<String> crashed, Instant now) {
        Set<String> runningNow = new HashSet<>();
        Set<String> liveNames = new HashSet<>();
        for (SnapshotFormat.Row r : live) {
            liveNames.add(r.session());
            if (r.hasConversation()) runningNow.add(r.conversation().toLowerCase());
        }
        Map<String, SnapshotFormat.Row> before = new HashMap<>();
        previous.forEach(r -> before.putIfAbsent(r.session(), r));

        List<SnapshotFormat.Row> rows = new ArrayList<>(), notRunning = new ArrayList<>(), keptOwed = new ArrayList<>();
        for (SnapshotFormat.Row r : live) {
            SnapshotFormat.Row was = before.get(r.session());
            if (r.hasConversation() || was == null || !was.hasConversation() || runningNow.contains(was.conversation().toLowerCase())) {
                rows.add(r);
                continue;
            }
            // The id must not be lost with the process: keep it, and say since when it is not running.
            String noticed = " (noticed " + now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ")";
            String why = was.notRunning() != null ? was.notRunning()
                    : crashed.contains(was.conversation().toLowerCase()) ? SnapshotFormat.KILLED + "claude was killed, its live record is left" + noticed
                    : SnapshotFormat.EXITED + "claude no longer runs in this session" + noticed;
            SnapshotFormat.Row kept = new SnapshotFormat.Row(r.session(), r.cwd(), was.conversation(), was.conversationCwd(), was.claudeConfig(), why);
            runningNow.add(was.conversation().toLowerCase()); // one row per conversation
            rows.add(kept);
            notRunning.add(kept);
        }
        for (SnapshotFormat.Row r : owed) {
            if (liveNames.add(r.session())) {
                rows.add(r);
                keptOwed.add(r);
            }
        }
        return new Result(rows, notRunning, keptOwed);
    }
}

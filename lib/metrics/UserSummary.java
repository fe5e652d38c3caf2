package metrics;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import keep.Kept;
import store.HealLedger;
import store.History;
import store.SavedPane;
import store.SavedSession;
import store.StateStore;

/**
 * What the state dir holds for one user, counted: when a save last succeeded, the newest snapshot's sessions and
 * conversations (by assistant, and those not running by why), snapshots kept, rows a restore
 * owes, conversation files kept, heals done. What the metrics and the status screen both say.
 */
public record UserSummary(String user, Instant newest, Instant lastSaved, int sessions, Map<String, Integer> conversations, Map<String, Integer> notRunning,
                          int snapshots, int owed, int keptFiles, long keptBytes, Map<String, Long> heals) {

    /** Reads it; a part that cannot be read counts as none (the journal says why when a run needs it). */
    public static UserSummary of(StateStore store, String user) {
        History history = store.history(user);
        Instant newest = null;
        int sessions = 0, snapshots = 0, owed = 0, keptFiles = 0;
        long keptBytes = 0;
        Map<String, Integer> conversations = new TreeMap<>(), notRunning = new TreeMap<>();
        Map<String, Long> heals = new TreeMap<>();
        try {
            var all = history.list();
            snapshots = all.size();
            if (!all.isEmpty()) {
                newest = all.get(0).time();
                for (SavedSession row : history.read(all.get(0)).rows()) {
                    sessions++;
                    for (SavedPane p : row.conversations()) {
                        conversations.merge(p.assistant(), 1, Integer::sum);
                        if (p.notRunning() != null) notRunning.merge(reason(p), 1, Integer::sum);
                    }
                }
            }
        } catch (IOException e) {
            // none known
        }
        try {
            owed = store.owed(user).rows().size();
        } catch (IOException e) {
            // none known
        }
        Kept kept = Kept.read(store, user);
        for (Kept.Entry e : kept.entries()) {
            if (!kept.present(e)) continue;
            keptFiles++;
            keptBytes += e.size();
        }
        try {
            HealLedger ledger = HealLedger.read(store, user);
            for (String what : HealLedger.COUNTS) heals.put(what, ledger.counted(what));
        } catch (IOException e) {
            // none known
        }
        return new UserSummary(user, newest, history.lastSaved().orElse(null), sessions, conversations, notRunning, snapshots, owed, keptFiles, keptBytes, heals);
    }

    /** Why a conversation is not running, as a label: the first word of its reason (killed, exited, stopped, restore_failed). */
    static String reason(SavedPane p) {
        return p.notRunning().kind().name().toLowerCase(java.util.Locale.ROOT);
    }

    public int conversationCount() {
        return conversations.values().stream().mapToInt(Integer::intValue).sum();
    }

    public int notRunningCount() {
        return notRunning.values().stream().mapToInt(Integer::intValue).sum();
    }
}

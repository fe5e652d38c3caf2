package metrics;

import java.util.List;
import java.util.Map;
import restore.Restorer;
import store.StateStore;

/**
 * What each run tells Prometheus, beside when it ran, how long, and how it ended ({@link Metrics}).
 * Every name and help text of ours is here; docs/prometheus-rules.yml alerts on them.
 */
public final class Reports {
    private Reports() {}

    /**
     * A save's: for each user ({@code saved}: whether her save succeeded), the time of her last
     * successful save (the state dir's: a failed one leaves it as it was), and what her state dir
     * now holds ({@link UserSummary}).
     */
    public static Metrics save(Metrics m, StateStore store, Map<String, Boolean> saved, java.time.Instant now) {
        for (Map.Entry<String, Boolean> e : saved.entrySet()) {
            String user = e.getKey();
            UserSummary s = UserSummary.of(store, user);
            // No snapshot yet: this run's success is her last one; a failure, none ever (0: the alert fires at once).
            java.time.Instant last = s.lastSaved() != null ? s.lastSaved() : e.getValue() ? now : java.time.Instant.EPOCH;
            m.gauge("t3_tmux_save_last_success_timestamp_seconds", "When the user's sessions were last saved successfully (Unix time; 0: never)",
                    last.toEpochMilli() / 1000.0, "user", user);
            m.gauge("t3_tmux_save_succeeded", "Whether the user's last save succeeded (1) or failed (0: her last snapshot is kept)", e.getValue() ? 1 : 0, "user", user);
            state(m, s);
        }
        return m;
    }

    /** What one user's state dir holds: the newest snapshot's counts, snapshots kept, rows owed, files kept. */
    static void state(Metrics m, UserSummary s) {
        String u = s.user();
        m.gauge("t3_tmux_sessions", "Sessions in the user's newest snapshot", s.sessions(), "user", u);
        for (Map.Entry<String, Integer> c : s.conversations().entrySet()) {
            m.gauge("t3_tmux_conversations", "Conversations in the user's newest snapshot, by assistant", c.getValue(), "user", u, "assistant", c.getKey());
        }
        for (String why : List.of("killed", "exited", "stopped", "restore_failed")) {
            m.gauge("t3_tmux_conversations_not_running", "Conversations in the newest snapshot not running, by why (the reason's first word)",
                    s.notRunning().getOrDefault(why, 0), "user", u, "reason", why);
        }
        m.gauge("t3_tmux_snapshots", "Snapshots kept in the user's history", s.snapshots(), "user", u);
        m.gauge("t3_tmux_rows_owed", "Sessions a restore still owes the user", s.owed(), "user", u);
        m.gauge("t3_tmux_kept_conversation_files", "Conversation files kept against their assistant's cleanup", s.keptFiles(), "user", u);
        m.gauge("t3_tmux_kept_conversation_bytes", "Bytes of those files (a hard-linked one counts whole)", s.keptBytes(), "user", u);
    }

    /** A restore's: per user, sessions brought back, conversations resumed, waiting for Enter, rows failed; seconds until all could be attached to. */
    public static Metrics restore(Metrics m, List<Restorer.Restored> outcomes, java.time.Duration attachable) {
        for (Restorer.Restored r : outcomes) {
            m.gauge("t3_tmux_restore_sessions_restored", "Sessions the last restore brought back", r.back(), "user", r.user());
            m.gauge("t3_tmux_restore_conversations_resumed", "Conversations the last restore resumed", r.resumed(), "user", r.user());
            m.gauge("t3_tmux_restore_conversations_waiting", "Conversations the last restore left waiting for their user's Enter", r.waiting(), "user", r.user());
            m.gauge("t3_tmux_restore_failed", "Rows the last restore could not bring back (kept, owed)", r.failed(), "user", r.user());
            m.gauge("t3_tmux_restore_conversations_failed", "Conversations the last restore started that fell through at once (kept, not running)",
                    r.didNotStart(), "user", r.user());
        }
        if (attachable != null) {
            m.gauge("t3_tmux_restore_attachable_seconds", "Seconds the last restore took until every session it made could be attached to",
                    attachable.toMillis() / 1000.0);
        }
        return m;
    }

    /** Heal's: per user, what it has done ever (the ledger's counts), for rate() and increase(). */
    public static Metrics heal(Metrics m, StateStore store, List<String> users) {
        for (String u : users) {
            Map<String, Long> heals = UserSummary.of(store, u).heals();
            m.counter("t3_tmux_heal_healed", "Conversations heal resumed in their pane after a crash", heals.getOrDefault("healed", 0L), "user", u);
            m.counter("t3_tmux_heal_waited", "Times heal waited for a busy pane", heals.getOrDefault("waited", 0L), "user", u);
            m.counter("t3_tmux_heal_gave_up", "Conversations heal gave up on (killed again and again: memory is short)", heals.getOrDefault("gave-up", 0L), "user", u);
            m.counter("t3_tmux_heal_servers_healed", "Killed tmux servers whose sessions heal brought back", heals.getOrDefault("servers-healed", 0L), "user", u);
        }
        return m;
    }

    /** Reconcile's: the drift it found, and how much of it it fixed (a dry run or --check fixes none). */
    public static Metrics reconcile(Metrics m, int found, int fixed) {
        m.gauge("t3_tmux_reconcile_drift_found", "Drift the last reconcile found on the host", found);
        m.gauge("t3_tmux_reconcile_drift_fixed", "Of it, what it fixed", fixed);
        return m;
    }
}

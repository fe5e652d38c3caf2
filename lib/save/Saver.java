package save;

import store.SavedSession;
import base.Accounts;
import base.Cli;
import base.ConversationId;
import base.Log;
import base.Procfs;
import base.Settings;
import assistants.Running;
import keep.Keeper;
import java.io.IOException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import store.EndedSessions;
import store.HealLedger;
import store.History;
import store.Roster;
import store.SnapshotFormat;
import store.StateStore;
import tmux.ServerCrash;
import tmux.Tmux;

/**
 * One save of one user, in its steps: list what is live, compose it with what must be kept,
 * record it if it changed (or print it, for a dry run), keep the files of the conversations it
 * names (keep.Keeper), and say what was done. One user's
 * failure is hers: logged, counted, never the others'.
 */
public final class Saver {
    private final Settings settings;
    private final StateStore store;
    private final Procfs procs;
    private final ServerCrash crashes;
    private final boolean dryRun;

    /** {@code procs}: the process table, read once for the run; {@code crashes}: evidence a server was killed, read when asked. */
    public Saver(Settings settings, StateStore store, Procfs procs, ServerCrash crashes, boolean dryRun) {
        this.settings = settings;
        this.store = store;
        this.procs = procs;
        this.crashes = crashes;
        this.dryRun = dryRun;
    }

    /** Saves {@code user}; false when it failed (said in the log), her last snapshot kept. */
    public boolean user(String user) {
        try {
            Optional<Accounts.Account> account = account(user);
            if (account.isEmpty()) return false;
            Tmux tmux = Tmux.of(account.get(), settings);
            Inventory.Result live = Inventory.take(account.get(), tmux, procs, settings.programs());
            if (live.status() != Tmux.Status.OK) {
                boolean ok = nothingLive(user, live);
                if (!dryRun) {
                    History history = store.history(user);
                    // No server, or an empty one: a save that succeeded all the same (her last snapshot is what there is).
                    if (ok) history.saw(history.newest(), Instant.now());
                    // Her conversation files are hers all the same, and still kept.
                    Keeper.afterSave(store, account.get(), settings.keepConversations(), history, false, Instant.now());
                }
                return ok;
            }
            History history = store.history(user);
            History.Current newest = history.current(); // read once: composed from here, committed against it below
            Instant now = Instant.now();
            NextSnapshot.Result next = compose(account.get(), live, newest, now);
            String written = dryRun ? print(user, live, next) : record(account.get(), tmux, live, history, newest, next, now);
            if (written == null) return false;
            Log.info("%s: %s %d sessions, %d with a conversation%s", user, dryRun ? "would save" : "saved", live.rows().size(),
                    live.withConversation(), written);
            return true;
        } catch (Exception e) {
            Log.error("%s: save failed, last snapshot kept: %s", user, Cli.describe(e));
            return false;
        }
    }

    /** Says on her tmux client what the newest snapshot holds now (the plugin's save key), or that the save failed. */
    public static void tell(Settings settings, StateStore store, String user, String client, boolean ok) {
        Optional<Accounts.Account> account = Accounts.byName(user);
        if (account.isEmpty()) return;
        String message;
        try {
            List<store.SavedSession> rows = store.history(user).current().rows();
            message = (ok ? "t3: saved " : "t3: save failed (see the log); the newest snapshot has ") + rows.size() + " sessions, "
                    + rows.stream().mapToLong(r -> r.conversations().size()).sum() + " conversations";
        } catch (java.io.IOException e) {
            message = "t3: save failed: " + Cli.describe(e);
        }
        Tmux.of(account.get(), settings).tell(client, message);
    }

    private Optional<Accounts.Account> account(String user) {
        Optional<Accounts.Account> account = Roster.account(user, settings);
        if (account.isPresent() && !Accounts.isRoot() && account.get().uid() != Accounts.currentUid()) {
            Log.error("%s: only root may save another user's sessions; run as root or with --user yourself", user);
            return Optional.empty();
        }
        return account;
    }

    /** No listing to save (no server, a stale socket, no session, tmux failed): the last snapshot stays; true unless tmux failed. */
    private static boolean nothingLive(String user, Inventory.Result live) {
        switch (live.status()) {
            case TIMED_OUT:
            case FAILED:
                Log.error("%s: %s (%s); last snapshot kept", user, live.status().words, live.detail());
                return false;
            case STALE_SOCKET:
                Log.warn("%s: %s (%s); last snapshot kept", user, live.status().words, live.detail());
                return true;
            default:
                Log.info("%s: %s; last snapshot kept", user, live.status().words);
                return true;
        }
    }

    /**
     * What the save records: the live rows, each pane with its conversation; an assistant killed
     * in a live pane keeps its conversation (the evidence it left tells a crash from an exit); rows
     * a restore owes; and the sessions of a server that died and was replaced.
     */
    private NextSnapshot.Result compose(Accounts.Account account, Inventory.Result live, History.Current newest, Instant now) throws IOException {
        String user = account.name();
        List<SavedSession> previous = newest.rows();
        HealLedger healed = HealLedger.read(store, user);
        // An assistant that left the evidence of a kill (and heal has not dealt with it) was killed, not quit.
        Set<String> crashed = new Running(procs, account).crashes(previous).stream().filter(r -> !healed.handled(r.key()))
                .map(r -> ConversationId.normal(r.conversation())).collect(Collectors.toSet());
        List<SavedSession> owed = store.owed(user).rows();
        // A new server since the newest snapshot: the old one's sessions that are not live ended with it, and are kept.
        EndedSessions.Turnover turnover = EndedSessions.of(previous, newest.parsed().server(), live.server(), live.byName().keySet(),
                EndedSessions.leave(owed, store.forgotten(user).read().keySet(), previous, healed::handledServer),
                server -> crashes.evidence(account.uid(), server), now, settings.keepFor());
        EndedSessions.log(user, turnover);
        NextSnapshot.Result next = NextSnapshot.compose(live.rows(), previous, owed, crashed, turnover, live.unnamed(), now);
        for (NextSnapshot.Kept k : next.notRunning()) {
            Log.info("%s: '%s' keeps conversation %s in %s, not running: %s", user, k.session(), k.pane().conversation(), k.pane().address(),
                    k.pane().notRunning());
        }
        if (!next.owed().isEmpty()) {
            Log.warn("%s: keeping %d session(s) the restore could not bring back yet (%s); t3-restore --user %s retries them",
                    user, next.owed().size(), String.join(", ", next.owed().stream().map(r -> "'" + r.session() + "'").toList()), user);
        }
        return next;
    }

    private String print(String user, Inventory.Result live, NextSnapshot.Result next) {
        System.out.print("### " + store.pointer(user) + "\n" + SnapshotFormat.format(next.rows(), live.server()));
        return "";
    }

    /**
     * Commits the snapshot (when it changed), then what follows from it: rows live again owed no
     * more, names live again no longer forgotten, the screens, retention. Returns what was
     * written, for the log line; null when what follows could not be recorded (said).
     */
    private String record(Accounts.Account account, Tmux tmux, Inventory.Result live, History history, History.Current newest,
                          NextSnapshot.Result next, Instant now) throws IOException {
        String user = account.name();
        // A server tmux named but /proc did not confirm is not known: the one before is kept, so a later change is still seen.
        Tmux.Server server = live.server() != null ? live.server() : newest.parsed().server();
        Optional<History.Snapshot> snapshot = history.commit(next.rows(), server, now, newest);
        if (snapshot.isEmpty()) history.saw(newest.snapshot(), now); // unchanged: the newest snapshot's mtime says when a save last succeeded
        String written = snapshot.map(s -> " in snapshot " + s.name()).orElse(", unchanged: nothing written");
        try {
            // A session live again is owed no more: a user's later kill-session must not be undone.
            store.owed(user).strikeAll(live.rows().stream().map(SavedSession::session).collect(Collectors.toSet()));
            Map<String, Instant> created = new HashMap<>();
            live.sessions().forEach(x -> created.put(x.name(), x.created()));
            Collection<String> wanted = store.forgotten(user).clearSeen(created);
            if (!wanted.isEmpty()) Log.info("%s: %s live again: no longer forgotten", user, wanted);
        } catch (IOException e) {
            Log.error("%s: the snapshot is saved%s; what is owed or forgotten is not updated: %s", user, written, Cli.describe(e));
            return null;
        }
        try {
            Screens.save(store, user, tmux, live, next.rows(), settings.scrollback());
        } catch (IOException e) {
            Log.warn("%s: the snapshot is saved, its panes' screens are not: %s", user, Cli.describe(e));
        }
        int pruned = history.prune(settings.keep(), settings.keepFor(), now);
        if (pruned > 0) Log.info("%s: retention removed %d old snapshot(s)", user, pruned);
        Keeper.afterSave(store, account, settings.keepConversations(), history, snapshot.isPresent() || pruned > 0, now);
        return written;
    }
}

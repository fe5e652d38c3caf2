import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import java.util.Optional;

/**
 * What one user has right now: each tmux session with its cwd and the claude conversation
 * running in its active pane, as snapshot rows. Reads nothing but tmux (as the user) and the
 * process table and files it is given.
 */
public final class Inventory {
    /** The rows to save, or the tmux status that says why there are none. */
    public record Result(Tmux.Status status, String detail, List<SnapshotFormat.Row> rows, List<Tmux.Session> sessions) {
        public long withConversation() { return rows.stream().filter(SnapshotFormat.Row::hasConversation).count(); }

        /** The live rows by session name. */
        public java.util.Map<String, SnapshotFormat.Row> byName() {
            java.util.Map<String, SnapshotFormat.Row> m = new java.util.HashMap<>();
            rows.forEach(r -> m.put(r.session(), r));
            return m;
        }
    }

    private Inventory() {}

    public static Result take(Accounts.Account account, Tmux tmux, Procfs procs) {
        Tmux.Listing listing = tmux.listSessions();
        if (listing.status() != Tmux.Status.OK) return new Result(listing.status(), listing.detail(), List.of(), List.of());
        List<Tmux.Session> sessions = trusted(account, listing.sessions(), procs);
        return new Result(Tmux.Status.OK, "", rows(account, sessions, procs), sessions);
    }

    /**
     * The sessions with every pane pid that is not the user's own process replaced by
     * {@link #NO_PROCESS}. A pane pid is whatever the user's tmux server prints, and she may
     * run a server of her own making: root must not read another user's cwd or walk another
     * user's process tree on her word. Logs once per user when it drops any.
     */
    static List<Tmux.Session> trusted(Accounts.Account account, List<Tmux.Session> sessions, Procfs procs) {
        List<Tmux.Session> out = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (Tmux.Session s : sessions) {
            if (procs.ownedBy(s.panePid(), account.uid())) {
                out.add(s);
                continue;
            }
            // No such process (a dead pane): nothing to read, nothing to say.
            procs.owner(s.panePid()).ifPresent(uid -> dropped.add("'" + s.name() + "' (pid " + s.panePid() + " runs as uid " + uid + ")"));
            out.add(new Tmux.Session(s.id(), s.name(), NO_PROCESS, s.created()));
        }
        if (!dropped.isEmpty()) {
            Log.warn("%s: tmux gave pane pids that are not %s's processes, for %s; their panes count as having no process (no cwd, no conversation)",
                    account.name(), account.name(), String.join(", ", dropped));
        }
        return out;
    }

    /** The pane pid of a session whose pane has no process we trust: no process has it. */
    static final int NO_PROCESS = -1;

    /** The rows for sessions whose pane pids are trusted (see {@link #trusted}). */
    static List<SnapshotFormat.Row> rows(Accounts.Account account, List<Tmux.Session> sessions, Procfs procs) {
        Conversations conversations = new Conversations(procs, account);
        List<Claims.Claim> claims = new ArrayList<>();
        for (Tmux.Session s : sessions) {
            if (!procs.ownedBy(s.panePid(), account.uid())) continue;
            Optional<Procfs.Proc> claude = conversations.claudeIn(s.panePid());
            if (claude.isPresent()) {
                conversations.of(claude.get()).ifPresent(c -> claims.add(new Claims.Claim(s.name(), c, claude.get().startTicks())));
            } else {
                // A restored pane still waiting for its Enter: the conversation is wanted there, not dropped.
                procs.get(s.panePid()).ifPresent(p -> conversations.waitingIn(p).ifPresent(c -> claims.add(new Claims.Claim(s.name(), c, p.startTicks()))));
            }
        }
        Claims.Settled settled = Claims.settle(claims);
        for (Claims.Lost l : settled.lost()) {
            Log.warn("%s: sessions '%s' and '%s' both run conversation %s; '%s' keeps it (%s), '%s' is saved without one",
                    account.name(), l.keptBy(), l.claim().session(), l.claim().conversation().uuid(),
                    l.keptBy(), settled.kept().get(l.keptBy()).source(), l.claim().session());
        }

        Optional<Path> defaultConfig = UserFiles.trustedDir(Conversations.defaultConfig(account), account.uid());
        List<SnapshotFormat.Row> rows = new ArrayList<>();
        for (Tmux.Session s : sessions) {
            String cwd = procs.currentPath(s.panePid(), account.uid()).map(Path::toString).orElse("");
            Conversations.Conversation c = settled.kept().get(s.name());
            if (c == null) {
                rows.add(new SnapshotFormat.Row(s.name(), cwd, null, null, null));
                continue;
            }
            String config = defaultConfig.isPresent() && defaultConfig.get().equals(c.configDir()) ? null : c.configDir().toString();
            rows.add(new SnapshotFormat.Row(s.name(), cwd, c.uuid(),
                    c.startDir() == null ? null : c.startDir().toString(), config));
        }
        return rows;
    }

}

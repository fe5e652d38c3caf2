package save;

import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import base.Accounts;
import assistant.Claims;
import assistant.Conversation;
import assistants.Running;
import base.Log;
import base.Procfs;
import store.SnapshotFormat;
import tmux.Tmux;
import base.UserFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one user has right now: each tmux session with its windows and panes, each pane's cwd,
 * the conversation an assistant runs in it (with the launch options worth carrying) or the program
 * worth starting again, as snapshot rows. Reads nothing but tmux (as the user) and the process
 * table and files it is given.
 */
public final class Inventory {
    /**
     * The rows to save, or the tmux status that says why there are none; {@code server}: which
     * server listed them (null: not known); {@code unnamed}: the live panes (by key) where an
     * assistant runs whose conversation cannot be named, with its name.
     */
    public record Result(Tmux.Status status, String detail, List<SavedSession> rows, List<Tmux.Session> sessions, List<Tmux.LivePane> panes,
                         Tmux.Server server, Map<String, String> unnamed) {
        public long withConversation() { return rows.stream().filter(SavedSession::hasConversation).count(); }

        /** The live rows by session name. */
        public Map<String, SavedSession> byName() {
            Map<String, SavedSession> m = new java.util.HashMap<>();
            rows.forEach(r -> m.put(r.session(), r));
            return m;
        }

        /** Every live pane's pid, labelled for the log ("session 'work'", "session 'work' pane 1.2"). */
        public Map<Integer, String> paneLabels() {
            Map<Integer, String> labels = new LinkedHashMap<>();
            for (Tmux.Session s : sessions) {
                for (Tmux.LivePane p : panes) if (p.sessionId().equals(s.id())) labels.putIfAbsent(p.pid(), where(s, p));
            }
            return labels;
        }
    }

    private Inventory() {}

    /** The live sessions as rows; {@code programs}: the programs worth starting again (T3_RESTORE_PROGRAMS). */
    public static Result take(Accounts.Account account, Tmux tmux, Procfs procs, List<String> programs) {
        Tmux.Listing listing = tmux.listSessions();
        if (listing.status() != Tmux.Status.OK) return new Result(listing.status(), listing.detail(), List.of(), List.of(), List.of(), null, Map.of());
        Tmux.Listing trusted = trusted(account, listing, procs);
        Map<String, String> unnamed = new java.util.HashMap<>();
        return new Result(Tmux.Status.OK, "", rows(account, trusted, procs, programs, unnamed), trusted.sessions(), trusted.panes(), trusted.server(), unnamed);
    }

    /** The live sessions as rows, without looking for programs (what a restore compares against). */
    public static Result take(Accounts.Account account, Tmux tmux, Procfs procs) {
        return take(account, tmux, procs, List.of());
    }

    /**
     * The listing with every pane pid that is not the user's own process replaced by
     * {@link #NO_PROCESS}. A pane pid is whatever the user's tmux server prints, and she may
     * run a server of her own making: root must not read another user's cwd or walk another
     * user's process tree on her word. Logs once per user when it drops any.
     */
    public static Tmux.Listing trusted(Accounts.Account account, Tmux.Listing listing, Procfs procs) {
        List<String> dropped = new ArrayList<>();
        Map<String, String> names = new java.util.HashMap<>();
        listing.sessions().forEach(s -> names.put(s.id(), s.name()));
        List<Tmux.Session> sessions = new ArrayList<>();
        for (Tmux.Session s : listing.sessions()) {
            if (procs.ownedBy(s.panePid(), account.uid())) {
                sessions.add(s);
                continue;
            }
            // Said below, for its pane; no such process (a dead pane): nothing to read, nothing to say.
            sessions.add(new Tmux.Session(s.id(), s.name(), NO_PROCESS, s.created()));
        }
        List<Tmux.LivePane> panes = new ArrayList<>();
        for (Tmux.LivePane p : listing.panes()) {
            if (procs.ownedBy(p.pid(), account.uid())) {
                panes.add(p);
                continue;
            }
            procs.owner(p.pid()).ifPresent(uid -> dropped.add("'" + names.get(p.sessionId()) + "' pane " + p.window() + "." + p.index()
                    + " (pid " + p.pid() + " runs as uid " + uid + ")"));
            panes.add(p.withPid(NO_PROCESS));
        }
        if (!dropped.isEmpty()) {
            Log.warn("%s: tmux gave pane pids that are not %s's processes, for %s; their panes count as having no process (no cwd, no conversation)",
                    account.name(), account.name(), String.join(", ", dropped));
        }
        Tmux.Server server = trusted(listing.server(), account.uid(), procs.get(listing.server() == null ? -1 : listing.server().pid()), procs.bootTime());
        return new Tmux.Listing(listing.status(), sessions, listing.detail(), panes, server);
    }

    /**
     * The server her tmux says it is, when /proc agrees: its pid is her process, started when it
     * says (within the second tmux rounds to); else null, not known. The pid ties crash evidence
     * to the server later, and the start time is read back as a time: neither is taken on her word.
     */
    public static Tmux.Server trusted(Tmux.Server said, int uid, Optional<Procfs.Proc> proc, java.time.Instant bootTime) {
        if (said == null || proc.isEmpty() || proc.get().uid() != uid) return null;
        long started = Procfs.startTime(proc.get(), bootTime).getEpochSecond();
        // With the cgroup it runs in: systemd-oomd names that when it kills (ServerCrash).
        return Math.abs(started - said.start()) <= 2 ? said.withCgroup(Procfs.cgroupOf(said.pid()).orElse(null)) : null;
    }

    /** The pane pid of a session whose pane has no process we trust: no process has it. */
    public static final int NO_PROCESS = -1;

    /** The rows for a listing whose pane pids are trusted (see {@link #trusted}). */
    public static List<SavedSession> rows(Accounts.Account account, Tmux.Listing listing, Procfs procs, List<String> programs) {
        return rows(account, listing, procs, programs, new java.util.HashMap<>());
    }

    /** As above; {@code unnamed} learns the panes where an assistant runs whose conversation cannot be named. */
    private static List<SavedSession> rows(Accounts.Account account, Tmux.Listing listing, Procfs procs, List<String> programs, Map<String, String> unnamed) {
        Running assistants = new Running(procs, account);
        // Each session's panes (tmux lists every session with one at least).
        Map<Tmux.Session, List<Tmux.LivePane>> panesOf = new LinkedHashMap<>();
        for (Tmux.Session s : listing.sessions()) panesOf.put(s, listing.panesOf(s));
        Map<String, Procfs.Proc> processOf = new java.util.HashMap<>();
        Claims.Resolved resolved = Claims.resolve(claims(account, panesOf, procs, assistants, processOf, unnamed));
        for (Claims.Lost l : resolved.lost()) {
            Log.warn("%s: %s and %s both run conversation %s; %s keeps it (%s), %s is saved without one",
                    account.name(), l.keptBy(), l.claim().session(), l.claim().conversation().id(),
                    l.keptBy(), resolved.kept().get(l.keptBy()).source(), l.claim().session());
        }
        List<SavedSession> rows = new ArrayList<>();
        // Each assistant's default home, looked up once per user: a row names a home only when it is another.
        Map<assistant.Assistant, Optional<Path>> defaultHomes = new java.util.HashMap<>();
        panesOf.forEach((s, panes) -> {
            if (panes.isEmpty()) return; // gone between two lines of tmux's listing: nothing to save of it
            List<SavedPane> saved = new ArrayList<>();
            for (Tmux.LivePane p : panes) {
                saved.add(pane(account, p, procs, resolved.kept().get(where(s, p)), processOf.get(where(s, p)), programs, defaultHomes));
            }
            rows.add(SavedSession.of(s.name(), windows(panes, saved)));
        });
        return rows;
    }

    /**
     * Who claims which conversation: each pane's assistant (its conversation, most certain evidence
     * first), or a restored pane still at its gate (the conversation is wanted there, not dropped).
     * {@code processOf} learns each pane's assistant process, for its launch options.
     */
    private static List<Claims.Claim> claims(Accounts.Account account, Map<Tmux.Session, List<Tmux.LivePane>> panesOf, Procfs procs,
                                             Running assistants, Map<String, Procfs.Proc> processOf, Map<String, String> unnamed) {
        List<Claims.Claim> claims = new ArrayList<>();
        panesOf.forEach((s, panes) -> {
            for (Tmux.LivePane p : panes) {
                if (!procs.ownedBy(p.pid(), account.uid())) continue;
                String where = where(s, p);
                Optional<Running.InPane> in = assistants.conversationIn(p.pid());
                if (in.isPresent()) {
                    Procfs.Proc proc = in.get().found().proc();
                    processOf.put(where, proc);
                    if (in.get().conversation() != null) claims.add(new Claims.Claim(where, in.get().conversation(), proc.startTicks()));
                    else if (in.get().known() && key(p) != null) unnamed.put(key(p), in.get().found().assistant().name());
                } else {
                    procs.get(p.pid()).ifPresent(pp -> assistants.waitingIn(pp).ifPresent(c -> claims.add(new Claims.Claim(where, c, pp.startTicks()))));
                }
            }
        });
        return claims;
    }

    /** One live pane as saved: its place and cwd, and the conversation it keeps ({@code c}, with its process's options) or its program. */
    private static SavedPane pane(Accounts.Account account, Tmux.LivePane p, Procfs procs, Conversation c, Procfs.Proc process,
                                  List<String> programs, Map<assistant.Assistant, Optional<Path>> defaultHomes) {
        String cwd = procs.currentPath(p.pid(), account.uid()).map(Path::toString).orElse("");
        SavedPane pane = SavedPane.at(p.window(), p.index()).active(p.active()).cwd(cwd).tmuxPane(key(p));
        if (c == null) {
            return pane.program(procs.ownedBy(p.pid(), account.uid()) ? Programs.running(procs, p.pid(), account.uid(), programs) : List.of());
        }
        Optional<Path> defaultHome = defaultHomes.computeIfAbsent(c.assistant(), a -> UserFiles.trustedDir(a.defaultHome(account), account.uid()));
        String home = c.home() == null || defaultHome.isPresent() && defaultHome.get().equals(c.home()) ? null : c.home().toString();
        return pane.conversation(c.id(), c.startDir() == null ? null : c.startDir().toString(), home).assistant(c.assistant().name())
                .options(process == null ? List.of() : c.assistant().carried(process.argv()));
    }

    /** The session's windows in tmux's order, each with its saved panes ({@code saved}, one per live pane, in the same order). */
    private static List<SavedWindow> windows(List<Tmux.LivePane> panes, List<SavedPane> saved) {
        Map<Integer, List<SavedPane>> byWindow = new LinkedHashMap<>();
        for (int i = 0; i < panes.size(); i++) byWindow.computeIfAbsent(panes.get(i).window(), k -> new ArrayList<>()).add(saved.get(i));
        List<SavedWindow> windows = new ArrayList<>();
        for (Tmux.LivePane p : panes) {
            if (windows.stream().anyMatch(w -> w.index() == p.window())) continue;
            SavedWindow w = SavedWindow.at(p.window()).layout(p.layout()).active(p.windowActive()).zoomed(p.zoomed()).withPanes(byWindow.get(p.window()));
            windows.add(p.autoName() ? w.autoNamed(p.windowName()) : w.named(p.windowName()));
        }
        return windows;
    }

    /** The live pane's identity, when the listing says which server it is on. */
    private static String key(Tmux.LivePane p) {
        return p.serverStart().isEmpty() ? null : p.key();
    }

    /** A pane's name in claims and the log: "session 'work'" for the session's active pane, else with the pane's address. */
    private static String where(Tmux.Session s, Tmux.LivePane p) {
        return "session '" + s.name() + "'" + (p.windowActive() && p.active() ? "" : " pane " + p.window() + "." + p.index());
    }
}

package restore;

import store.SavedSession;
import store.SavedPane;
import base.ConversationId;
import base.Accounts;
import assistant.Assistant;
import assistant.CannotTell;
import assistant.Stored;
import assistants.Assistants;
import tmux.PaneScript;
import save.Programs;
import base.Settings;
import store.SnapshotFormat;
import base.UserFiles;
import keep.PutBack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What restore will do with each saved row of one user: leave a live session alone, bring a
 * missing one back resuming its conversation, or bring it back as a shell (and why).
 */
public final class RestorePlan {
    /** What a saved row's session is now. Tokens: the same in the table and in --json. */
    public enum State {
        MISSING("missing"), LIVE_SAME("live-same-conversation"), LIVE_OTHER("live-other-conversation"), LIVE_SHELL("live-shell");
        public final String token;
        State(String token) { this.token = token; }
    }

    /** What becomes of a session (skip it, or bring it back) and of each of its panes (resume, a program, a shell). */
    public enum Action {
        SKIP("skip"), RESUME("resume"), SHELL("shell"), PROGRAM("program");
        public final String token;
        Action(String token) { this.token = token; }
    }

    /**
     * One pane's fate. {@code cwd} is where the pane starts (the saved one, or the fallback when
     * it is gone); {@code startDir} is where its assistant resumes (the conversation's starting
     * directory); {@code home} the assistant's home when not its default; {@code lost} why a
     * conversation that was running could not come back (null otherwise): the row keeps it,
     * marked not running for that reason.
     */
    public record PanePlan(SavedPane pane, Action action, String why, Path cwd, Path startDir, Path home, String lost,
                           java.time.Instant lastActive) {
        PanePlan(SavedPane pane, Action action, String why, Path cwd) {
            this(pane, action, why, cwd, null, null, null, null);
        }
    }

    /**
     * One session's fate: live (left alone), forgotten, or brought back with each of its panes
     * planned. Its action, cwd and why are its main pane's (the one the row's conversation is
     * in), for the plan's table; {@code panes} says what each pane does.
     */
    public record Step(SavedSession row, State state, Action action, String why, Path cwd, List<PanePlan> panes) {
        Step(SavedSession row, State state, String why) {
            this(row, state, Action.SKIP, why, null, List.of());
        }

        public boolean live() { return state != State.MISSING; }

        /** The panes that resume a conversation. */
        public List<PanePlan> resuming() {
            return panes.stream().filter(p -> p.action() == Action.RESUME).toList();
        }
    }

    private RestorePlan() {}

    /**
     * Plans every row. {@code live} holds the user's live sessions as rows (with what runs in them
     * now); {@code running} maps the conversation ids this user runs right now to where they run;
     * {@code forgotten} the names closed on purpose; {@code fallbackDir} (the roster's cwd for the
     * user, may be null) is where a pane whose cwd is gone starts, else the user's home.
     * {@code wanted}: the rows, and whether they were asked for by name (--session, --find), so a
     * forgotten name or a conversation that was not running when saved comes back all the same
     * (only the one asked for, when --find named a conversation). {@code programs}: the programs a
     * pane may run again (T3_RESTORE_PROGRAMS now, whatever the snapshot says). {@code putBack}:
     * where a conversation's own file is gone, its kept copy goes back (a dry run: would).
     */
    public static List<Step> plan(Accounts.Account account, Selection wanted, Map<String, SavedSession> live,
                                  Map<String, String> running, Map<String, java.time.Instant> forgotten,
                                  Path fallbackDir, List<String> programs, PutBack putBack) {
        boolean explicit = wanted.explicit();
        List<SavedSession> rows = wanted.rows();
        Path fallback = Optional.ofNullable(fallbackDir).flatMap(d -> existingDir(d.toString())).orElse(account.home());
        List<Step> steps = new ArrayList<>();
        Map<String, String> claimedHere = new HashMap<>(); // a conversation restored twice from one file: only once
        for (SavedSession row : rows) {
            SavedSession now = live.get(row.session());
            if (now != null) {
                State state = !now.running() ? State.LIVE_SHELL
                        : row.hasConversation() && ConversationId.same(row.conversation(), now.conversation()) ? State.LIVE_SAME : State.LIVE_OTHER;
                String why = state == State.LIVE_SHELL && row.hasConversation()
                        ? "live; its conversation is not running there (" + (row.notRunning() != null ? row.notRunning() : "its assistant exited") + ")"
                        : "live";
                steps.add(new Step(row, state, why));
                continue;
            }
            if (!explicit && forgotten.containsKey(row.session())) {
                steps.add(new Step(row, State.MISSING, "forgotten on purpose at " + forgotten.get(row.session())
                        + " (t3-restore --forget); --find brings it back"));
                continue;
            }
            if (!explicit && row.ended() != null && !row.ended().crashed()) {
                // Nobody can tell her kill-server (or kill -9) from a crash: only she brings it back.
                steps.add(new Step(row, State.MISSING, row.ended().describe() + "; --session or --find brings it back"));
                continue;
            }
            List<PanePlan> panes = new ArrayList<>();
            for (SavedPane p : row.panes()) {
                panes.add(planPane(account, row.session(), p, running, claimedHere, wanted.asked(p), fallback, programs, putBack));
            }
            PanePlan main = panes.stream().filter(p -> row.hasConversation() && ConversationId.same(row.conversation(), p.pane().conversation()))
                    .findFirst().orElse(panes.get(0));
            String why = main.why();
            long others = panes.stream().filter(p -> p != main && p.pane().hasConversation()).count();
            if (panes.size() > 1) {
                why += "; " + panes.size() + " panes in " + row.windows().size() + " window(s)"
                        + (others == 0 ? "" : ", " + panes.stream().filter(p -> p != main && p.action() == Action.RESUME).count()
                        + " of " + others + " other conversation(s) to resume");
            }
            Action action = panes.stream().anyMatch(p -> p.action() == Action.RESUME) ? Action.RESUME : Action.SHELL;
            steps.add(new Step(row, State.MISSING, action, why, main.cwd(), panes));
        }
        return steps;
    }

    /**
     * One pane of a missing session (or one heal makes again): resume its conversation, start its
     * program again, or a shell (and why). {@code running}: conversation ids to where they run.
     */
    public static PanePlan planPane(Accounts.Account account, String session, SavedPane pane, Map<String, String> running,
                                     Map<String, String> claimedHere, boolean explicit, Path fallback, List<String> programs, PutBack putBack) {
        Optional<Path> saved = existingDir(pane.cwd());
        Path cwd = saved.orElse(fallback);
        String cwdNote = saved.isEmpty() ? "saved cwd '" + pane.cwd() + "' is gone, starting in " + fallback + "; " : "";
        if (!pane.hasConversation()) {
            if (!pane.program().isEmpty() && programs.contains(Programs.name(pane.program().get(0)))) {
                return new PanePlan(pane, Action.PROGRAM, cwdNote + "runs " + Programs.name(pane.program().get(0)) + " again", cwd);
            }
            return new PanePlan(pane, Action.SHELL, cwdNote + (pane.program().isEmpty() ? "no conversation saved"
                    : Programs.name(pane.program().get(0)) + " is not in T3_RESTORE_PROGRAMS"), cwd);
        }
        if (!explicit && !pane.wanted()) {
            return new PanePlan(pane, Action.SHELL, cwdNote + "its conversation was not running when saved ("
                    + pane.notRunning() + "); --find " + pane.conversation() + " resumes it", cwd);
        }
        String id = ConversationId.normal(pane.conversation());
        String where = running.getOrDefault(id, claimedHere.get(id));
        if (where != null) return new PanePlan(pane, Action.SHELL, cwdNote + "conversation already runs in " + where, cwd);
        Optional<Assistant> assistant = Assistants.named(pane.assistant());
        if (assistant.isEmpty() || !assistant.get().isId(pane.conversation())) {
            // Kept as it is: a release that knows the assistant brings it back.
            String lost = assistant.isEmpty() ? "assistant '" + pane.assistant() + "' is not one this release knows (" + String.join(", ", Assistants.names()) + ")"
                    : "'" + pane.conversation() + "' is not a " + pane.assistant() + " conversation id";
            return new PanePlan(pane, Action.SHELL, cwdNote + lost, cwd, null, null, lost, null);
        }
        Path homeDir = assistant.get().home(account, pane.home());
        Optional<Path> home = UserFiles.trustedDir(homeDir, account.uid());
        Optional<Stored> stored = stored(account, assistant.get(), home, pane.conversation());
        String putNote = "";
        if (stored.isEmpty()) {
            Optional<PutBack.Back> back = putBack.back(assistant.get(), homeDir, pane.conversation());
            if (back.isPresent()) {
                stored = Optional.of(back.get().stored());
                home = UserFiles.trustedDir(homeDir, account.uid()).or(() -> Optional.of(homeDir));
                putNote = " (" + back.get().how() + ")";
            }
        }
        if (stored.isEmpty()) {
            String lost = assistant.get().gone(homeDir) + (putBack.entry(assistant.get(), pane.conversation()).isEmpty()
                    ? "; t3 kept no copy of it" : "; t3's kept copy could not go back (see the log)");
            return new PanePlan(pane, Action.SHELL, cwdNote + lost, cwd, null, null, lost, null);
        }
        Stored kept = stored.get();
        Optional<Path> start = Optional.ofNullable(pane.conversationCwd()).flatMap(RestorePlan::existingDir)
                .or(() -> Optional.ofNullable(kept.startDir()).flatMap(p -> existingDir(p.toString())));
        if (start.isEmpty()) {
            String lost = "the conversation's starting directory is gone; " + pane.assistant() + " could not resume it";
            return new PanePlan(pane, Action.SHELL, cwdNote + lost, cwd, null, null, lost, null);
        }
        claimedHere.put(id, "session '" + session + "' (restored now)");
        return new PanePlan(pane, Action.RESUME, (cwdNote.isEmpty() ? "missing" : cwdNote + "missing") + putNote,
                cwd, start.get(), pane.home() == null ? null : home.get(), null, kept.lastActive());
    }

    /**
     * The conversation as its assistant keeps it; when that is not known (its files could not be
     * read), taken as kept: resumed, the assistant says (a failure is kept as restore failed, still wanted).
     */
    private static Optional<Stored> stored(Accounts.Account account, Assistant assistant, Optional<Path> home, String id) {
        try {
            return home.flatMap(h -> assistant.stored(account, h, id));
        } catch (CannotTell e) {
            return Optional.of(new Stored(null, java.time.Instant.EPOCH));
        }
    }

    /** The argv a new pane runs: its assistant resuming its conversation, its program, or the login shell; each then the login shell. */
    public static List<String> paneCommand(PanePlan pane, Accounts.Account account, Settings settings) {
        switch (pane.action()) {
            case RESUME:
                return resumeCommand(pane.startDir(), pane.pane(), account, settings, true, "restored");
            case PROGRAM:
                return PaneScript.program(account.shell(), pane.pane().program());
            default:
                return List.of(account.shell(), "-l");
        }
    }

    /**
     * The pane script resuming {@code pane}'s conversation with its assistant in {@code startDir}
     * (with the launch options it ran with), then the login shell; {@code gated}: only once Enter
     * is pressed in the pane (by the restore's budget, or the user). The pane says, as the assistant
     * starts, that it resumed and {@code why} ({@link PaneScript#note}).
     */
    public static List<String> resumeCommand(Path startDir, SavedPane pane, Accounts.Account account, Settings settings, boolean gated, String why) {
        Assistant assistant = Assistants.named(pane.assistant()).orElseThrow();
        List<String> command = new ArrayList<>(settings.command(assistant.name()));
        command.addAll(pane.options());
        command.addAll(assistant.resumeArgs(pane.conversation()));
        return PaneScript.resume(startDir, account.shell(), gated, pane.conversation(), assistant.name(),
                PaneScript.note(pane.conversation(), why, java.time.Instant.now()), command);
    }

    /** Environment a new pane that resumes a conversation gets (see below); any other pane, none. */
    public static Map<String, String> paneEnv(PanePlan pane) {
        if (pane.action() != Action.RESUME) return Map.of();
        return paneEnv(pane.pane().assistant(), pane.home());
    }

    /** The environment {@code assistant} resumes with: its own, and its home's variable when the home is not its default. */
    public static Map<String, String> paneEnv(String assistant, Path home) {
        Optional<Assistant> a = Assistants.named(assistant);
        if (a.isEmpty()) return Map.of();
        Map<String, String> env = new HashMap<>(a.get().resumeEnv());
        if (home != null) env.put(a.get().homeVariable(), home.toString());
        return env;
    }

    private static Optional<Path> existingDir(String dir) {
        // A NUL (from a hostile file) is no path at all: no directory, not an exception.
        if (dir == null || !dir.startsWith("/") || dir.indexOf('\0') >= 0) return Optional.empty();
        Path p = Path.of(dir);
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
}

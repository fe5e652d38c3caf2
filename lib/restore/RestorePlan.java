package restore;

import store.SavedSession;
import store.SavedPane;
import base.ConversationId;
import base.Accounts;
import claude.Conversations;
import tmux.PaneScript;
import save.Programs;
import base.Settings;
import store.SnapshotFormat;
import base.UserFiles;
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
     * it is gone); {@code startDir} is where claude resumes (the conversation's starting
     * directory); {@code lost} why a conversation that was running could not come back (null
     * otherwise): the row keeps it, marked not running for that reason.
     */
    public record PanePlan(SavedPane pane, Action action, String why, Path cwd, Path startDir, Path config, String lost,
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
     * pane may run again (T3_RESTORE_PROGRAMS now, whatever the snapshot says).
     */
    public static List<Step> plan(Accounts.Account account, Selection wanted, Map<String, SavedSession> live,
                                  Map<String, String> running, Map<String, java.time.Instant> forgotten,
                                  Conversations conversations, Path fallbackDir, List<String> programs) {
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
                        ? "live; its conversation is not running there (" + (row.notRunning() != null ? row.notRunning() : "claude exited") + ")"
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
                panes.add(planPane(account, row.session(), p, running, claimedHere, wanted.asked(p), conversations, fallback, programs));
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
                                     Map<String, String> claimedHere, boolean explicit, Conversations conversations, Path fallback,
                                     List<String> programs) {
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
        Path configDir = pane.claudeConfig() != null ? Path.of(pane.claudeConfig()) : Conversations.defaultConfig(account);
        Optional<Path> config = UserFiles.trustedDir(configDir, account.uid());
        Optional<Path> transcript = config.flatMap(c -> conversations.transcript(c, pane.conversation()));
        if (transcript.isEmpty()) {
            String lost = "transcript no longer exists in " + configDir + " (claude deletes old ones)";
            return new PanePlan(pane, Action.SHELL, cwdNote + lost, cwd, null, null, lost, null);
        }
        Optional<Path> start = Optional.ofNullable(pane.conversationCwd()).flatMap(RestorePlan::existingDir)
                .or(() -> conversations.startDir(config.get(), pane.conversation()).flatMap(p -> existingDir(p.toString())));
        if (start.isEmpty()) {
            String lost = "the conversation's starting directory is gone; claude could not resume it";
            return new PanePlan(pane, Action.SHELL, cwdNote + lost, cwd, null, null, lost, null);
        }
        claimedHere.put(id, "session '" + session + "' (restored now)");
        return new PanePlan(pane, Action.RESUME, cwdNote.isEmpty() ? "missing" : cwdNote + "missing",
                cwd, start.get(), pane.claudeConfig() == null ? null : config.get(), null, lastActive(transcript.get()));
    }

    /** The argv a new pane runs: claude resuming its conversation, its program, or the login shell; each then the login shell. */
    public static List<String> paneCommand(PanePlan pane, Accounts.Account account, Settings settings) {
        switch (pane.action()) {
            case RESUME:
                return resumeCommand(pane.startDir(), pane.pane().conversation(), pane.pane().claudeOptions(), account, settings, true);
            case PROGRAM:
                return PaneScript.program(account.shell(), pane.pane().program());
            default:
                return List.of(account.shell(), "-l");
        }
    }

    /**
     * The pane script resuming {@code conversation} in {@code startDir}, then the login shell;
     * {@code gated}: only once Enter is pressed in the pane (by the restore's budget, or the user).
     * {@code options}: the launch options the conversation ran with (see {@link ClaudeOptions}).
     */
    public static List<String> resumeCommand(Path startDir, String conversation, List<String> options, Accounts.Account account,
                                             Settings settings, boolean gated) {
        List<String> claude = new ArrayList<>(List.of(settings.claude()));
        if (!settings.claudeArgs().isBlank()) claude.addAll(List.of(settings.claudeArgs().trim().split("\\s+")));
        claude.addAll(options);
        claude.addAll(List.of("--resume", conversation));
        return PaneScript.resume(startDir, account.shell(), gated, conversation, claude);
    }

    /** When the conversation was last active: its transcript's mtime (the most recent resume first). */
    private static java.time.Instant lastActive(Path transcript) {
        try {
            return Files.getLastModifiedTime(transcript, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant();
        } catch (java.io.IOException e) {
            return java.time.Instant.EPOCH;
        }
    }

    /** Environment a new pane gets: its conversation's config root, when not the default. */
    public static Map<String, String> paneEnv(PanePlan pane) {
        return paneEnv(pane.config());
    }

    /** The environment that points claude at a config root other than ~/.claude (none for the default). */
    public static Map<String, String> paneEnv(Path config) {
        return config == null ? Map.of() : Map.of("CLAUDE_CONFIG_DIR", config.toString());
    }

    private static Optional<Path> existingDir(String dir) {
        // A NUL (from a hostile file) is no path at all: no directory, not an exception.
        if (dir == null || !dir.startsWith("/") || dir.indexOf('\0') >= 0) return Optional.empty();
        Path p = Path.of(dir);
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
}

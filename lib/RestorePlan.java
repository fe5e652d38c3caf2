import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What restore will do with each saved row of one user: leave a live session alone, bring a
 * missing one back resuming its conversation, or bring it back as a shell (and why).
 */
public final class RestorePlan {
    public enum Action {
        SKIP("skip"), CONVERSATION("restore with conversation"), SHELL("restore as shell");
        public final String words;
        Action(String words) { this.words = words; }
    }

    /**
     * One row's fate. {@code cwd} is where the session starts (the saved one, or home when it is
     * gone); {@code startDir} is where claude resumes (the conversation's starting directory).
     */
    public record Step(Snapshots.Row row, boolean live, Action action, String why, Path cwd, Path startDir, Path config) {}

    /** The shell script every restored pane runs; data reaches it only as arguments, never as code. */
    static final String PANE_SCRIPT = String.join("\n",
            "dir=$1 shell=$2; shift 2",
            // A login sh puts ~/.local/bin and the like on PATH, as the user's own login would.
            "( cd -- \"$dir\" && exec /bin/sh -lc 'exec \"$@\"' sh \"$@\" )",
            "echo \"[t3-restore] claude exited ($?); here is your shell\"",
            "exec \"$shell\" -l");

    private RestorePlan() {}

    /**
     * Plans every row. {@code isLive} tells whether a session of exactly that name is live; {@code running}
     * maps the conversation ids this user runs right now to where they run; {@code fallbackDir}
     * (the roster's cwd for the user, may be null) is where a session whose cwd is gone starts,
     * else the user's home.
     */
    public static List<Step> plan(Accounts.Account account, List<Snapshots.Row> rows, Predicate<String> isLive,
                                  Map<String, String> running, Conversations conversations, Path fallbackDir) {
        Path fallback = Optional.ofNullable(fallbackDir).flatMap(d -> existingDir(d.toString())).orElse(account.home());
        List<Step> steps = new ArrayList<>();
        Map<String, String> claimedHere = new HashMap<>(); // a conversation restored twice from one file: only once
        for (Snapshots.Row row : rows) {
            if (isLive.test(row.session())) {
                steps.add(new Step(row, true, Action.SKIP, "live", null, null, null));
                continue;
            }
            Optional<Path> saved = existingDir(row.cwd());
            Path cwd = saved.orElse(fallback);
            String cwdNote = saved.isEmpty() ? "saved cwd '" + row.cwd() + "' is gone, starting in " + fallback + "; " : "";
            if (!row.hasConversation()) {
                steps.add(new Step(row, false, Action.SHELL, cwdNote + "no conversation saved", cwd, null, null));
                continue;
            }
            String id = row.conversation().toLowerCase();
            String where = running.getOrDefault(id, claimedHere.get(id));
            if (where != null) {
                steps.add(new Step(row, false, Action.SHELL, cwdNote + "conversation already runs in " + where, cwd, null, null));
                continue;
            }
            Path configDir = row.claudeConfig() != null ? Path.of(row.claudeConfig()) : account.home().resolve(".claude");
            Optional<Path> config = UserFiles.trustedDir(configDir, account.uid());
            if (config.isEmpty() || conversations.transcript(config.get(), row.conversation()).isEmpty()) {
                steps.add(new Step(row, false, Action.SHELL, cwdNote + "transcript no longer exists in " + configDir
                        + " (claude deletes old ones)", cwd, null, null));
                continue;
            }
            Optional<Path> start = Optional.ofNullable(row.conversationCwd()).flatMap(RestorePlan::existingDir)
                    .or(() -> conversations.startDir(config.get(), row.conversation()).flatMap(p -> existingDir(p.toString())));
            if (start.isEmpty()) {
                steps.add(new Step(row, false, Action.SHELL, cwdNote + "the conversation's starting directory is gone; claude could not resume it",
                        cwd, null, null));
                continue;
            }
            claimedHere.put(id, "session '" + row.session() + "' (restored now)");
            steps.add(new Step(row, false, Action.CONVERSATION, cwdNote.isEmpty() ? "missing" : cwdNote + "missing",
                    cwd, start.get(), row.claudeConfig() == null ? null : config.get()));
        }
        return steps;
    }

    /** Where each running conversation lives, in words: the live session whose pane runs it, or its pid. */
    public static Map<String, String> whereRunning(Map<String, Procfs.Proc> running, List<Tmux.Session> live, Procfs procs) {
        Map<String, String> where = new HashMap<>();
        running.forEach((id, proc) -> where.put(id, live.stream()
                .filter(s -> procs.selfAndDescendants(s.panePid()).contains(proc))
                .map(s -> "session '" + s.name() + "'")
                .findFirst().orElse("pid " + proc.pid() + " (outside tmux)")));
        return where;
    }

    /** The argv the new pane runs: claude resuming the conversation then the login shell, or the login shell. */
    public static List<String> paneCommand(Step step, Accounts.Account account, Settings settings) {
        if (step.action() != Action.CONVERSATION) return List.of(account.shell(), "-l");
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", PANE_SCRIPT, "t3-restore", step.startDir().toString(), account.shell(), settings.claude()));
        if (!settings.claudeArgs().isBlank()) argv.addAll(List.of(settings.claudeArgs().trim().split("\\s+")));
        argv.addAll(List.of("--resume", step.row().conversation()));
        return argv;
    }

    /** Environment the new session gets: the conversation's config root, when not the default. */
    public static Map<String, String> paneEnv(Step step) {
        return step.config() == null ? Map.of() : Map.of("CLAUDE_CONFIG_DIR", step.config().toString());
    }

    private static Optional<Path> existingDir(String dir) {
        if (dir == null || !dir.startsWith("/")) return Optional.empty();
        Path p = Path.of(dir);
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
}

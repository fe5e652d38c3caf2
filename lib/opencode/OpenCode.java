package opencode;

import assistant.Assistant;
import assistant.Conversation;
import assistant.LaunchOptions;
import assistant.Stored;
import base.Accounts;
import base.Procfs;
import base.UserFiles;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * OpenCode (npm opencode-ai): a native binary, one process per TUI (comm its launch name), its
 * sessions rows of a SQLite database ({@link Sessions}), a row made at a TUI's first prompt
 * (and again at each /new). Nothing maps a process to its session; what does, most certain
 * first:
 * <ol>
 *   <li>argv {@code -s <id>} (stale after /new; not with {@code --fork}, which makes a new one): ARGV;</li>
 *   <li>the one session made in its directory since it surely started, while no other OpenCode
 *       of the user was running there (a row made while two were is either's): FILE. Two such
 *       rows (a /new, an {@code opencode run}, one that ended since) name none: the table says
 *       nothing of who made a row, and this never guesses.</li>
 * </ol>
 * {@code opencode -s <id>} resumes from any directory; t3 runs it in the session's own.
 */
public final class OpenCode implements Assistant {
    public static final OpenCode INSTANCE = new OpenCode();

    private static final Pattern ID = Pattern.compile("ses_[A-Za-z0-9]{20,40}");
    /** Subcommands that are not the TUI (a positional that is none of them is a project directory). */
    private static final Set<String> NOT_TUI = Set.of("run", "serve", "web", "acp", "attach", "auth", "agent", "upgrade", "uninstall", "models",
            "stats", "export", "import", "github", "pr", "session", "debug", "mcp", "completion", "generate", "plugin");
    private static final LaunchOptions CARRIED = new LaunchOptions(Set.of("-m", "--model", "--agent"), Set.of(), Set.of());

    private OpenCode() {}

    @Override public String name() { return "opencode"; }

    @Override
    public boolean is(Procfs.Proc p) {
        if (p.argv().isEmpty()) return false;
        Path argv0 = Path.of(p.argv().get(0)).getFileName();
        boolean named = p.comm().equals("opencode") || p.comm().equals("opencode.exe")
                || argv0 != null && (argv0.toString().equals("opencode") || argv0.toString().equals("opencode.exe"));
        if (!named) return false;
        for (String a : p.argv().subList(1, p.argv().size())) {
            if (a.startsWith("-")) continue;
            return !NOT_TUI.contains(a);
        }
        return true;
    }

    static boolean isSessionId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    @Override public boolean isId(String id) { return isSessionId(id); }

    /** XDG_DATA_HOME holds opencode/opencode.db (~/.local/share by default). */
    @Override public String homeVariable() { return "XDG_DATA_HOME"; }

    @Override public Path defaultHome(Accounts.Account account) { return account.home().resolve(".local/share"); }

    @Override
    public Optional<Conversation> conversation(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        Path configured = home(procs, account, p);
        Optional<Path> cwd = procs.cwd(p.pid());
        Optional<String> named = sessionInArgv(p.argv());
        // Named in argv, it resumes from any directory: the database is not read for it.
        if (named.isPresent()) return Optional.of(new Conversation(this, named.get(), Conversation.Source.ARGV, cwd.orElse(null), configured));
        Optional<Path> data = UserFiles.trustedDir(configured.resolve("opencode"), account.uid());
        if (cwd.isEmpty() || data.isEmpty()) return Optional.empty();
        List<Sessions.Row> rows = Sessions.of(data.get(), account.uid());
        Instant started = procs.surelyStarted(p);
        List<Instant> others = new ArrayList<>();
        for (Procfs.Proc other : procs.all()) {
            if (other.pid() != p.pid() && other.uid() == account.uid() && is(other) && procs.cwd(other.pid()).equals(cwd)) others.add(procs.startTime(other));
        }
        // The rows made in its directory after it surely started; the one, when no other OpenCode there had started by then.
        List<Sessions.Row> made = rows.stream().filter(r -> r.directory().equals(cwd.get()) && !r.created().isBefore(started)).toList();
        if (made.size() != 1 || !others.stream().allMatch(o -> o.isAfter(made.get(0).created()))) return Optional.empty();
        return Optional.of(new Conversation(this, made.get(0).id(), Conversation.Source.FILE, made.get(0).directory(), configured));
    }

    /** {@code -s <id>}, {@code --session <id>}, {@code --session=<id>}; none with {@code --fork} (a new session from that one). */
    public static Optional<String> sessionInArgv(List<String> argv) {
        if (argv.contains("--fork")) return Optional.empty();
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i), v = null;
            if ((a.equals("-s") || a.equals("--session")) && i + 1 < argv.size()) v = argv.get(i + 1);
            else if (a.startsWith("--session=")) v = a.substring("--session=".length());
            if (isSessionId(v)) return Optional.of(v);
        }
        return Optional.empty();
    }

    @Override
    public Optional<Stored> stored(Accounts.Account account, Path home, String id) {
        return UserFiles.trustedDir(home.resolve("opencode"), account.uid())
                .flatMap(d -> Sessions.byId(Sessions.of(d, account.uid()), id))
                .map(r -> new Stored(r.directory(), r.updated()));
    }

    /** The session's title, as OpenCode keeps it in its database. */
    @Override
    public Optional<String> title(Accounts.Account account, Path home, String id) {
        return UserFiles.trustedDir(home.resolve("opencode"), account.uid())
                .flatMap(d -> Sessions.byId(Sessions.of(d, account.uid()), id))
                .map(Sessions.Row::title).filter(t -> !t.isBlank());
    }

    @Override
    public String gone(Path home) {
        return "its session is no longer in " + home.resolve("opencode/opencode.db") + " (or the database could not be read)";
    }

    @Override public List<String> resumeArgs(String id) { return List.of("-s", id); }

    /** About 19 MiB of .so files a start, never removed (FACTS): a boot that resumes fifty fills a small /tmp. */
    @Override public long leavesInTmp() { return 20L << 20; }

    @Override public List<String> carried(List<String> argv) { return CARRIED.carried(argv); }
}

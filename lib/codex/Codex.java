package codex;

import assistant.Assistant;
import assistant.Conversation;
import assistant.LaunchOptions;
import assistant.Stored;
import base.Accounts;
import base.ConversationId;
import base.Procfs;
import base.UserFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * OpenAI's Codex CLI. The pane runs {@code node .../bin/codex} whose child, the native
 * {@code codex}, is the TUI (comm codex); a background {@code codex app-server} daemon (by
 * default) holds the conversation files, so no record names the conversation a TUI holds. What
 * does, most certain first:
 * <ol>
 *   <li>a rollout file the TUI itself holds open (it does with {@code --no-daemon}): RECORD;</li>
 *   <li>argv {@code resume <uuid>} (stale after /new): ARGV;</li>
 *   <li>the one rollout of a thread created in the TUI's first {@link #STARTUP} in its cwd, when no
 *       other codex of the user started in that cwd so close to it (a thread is made at start,
 *       its file at the first prompt): FILE. Never a guess between two.</li>
 * </ol>
 * {@code codex resume <uuid>} continues the same file; it runs in the conversation's directory
 * (from another it asks which to use). A kill leaves no evidence: its conversations are kept as
 * stopped and come back with the next boot or blanket restore.
 */
public final class Codex implements Assistant {
    public static final Codex INSTANCE = new Codex();

    /** How long after the TUI starts its first thread is made (about 10 s offline; less online). */
    static final Duration STARTUP = Duration.ofSeconds(30);

    /** Subcommands that are not the TUI: no conversation in a pane to keep (the daemon among them). */
    private static final Set<String> NOT_TUI = Set.of("exec", "e", "review", "login", "logout", "mcp", "mcp-server", "plugin", "app-server",
            "remote-control", "completion", "update", "doctor", "sandbox", "debug", "apply", "a", "queue", "archive", "delete",
            "migrate-rollouts", "migrate-nfs-db", "unarchive", "cloud", "exec-server", "features", "help", "agents");
    /** Options that take a value, so the value is not read as a subcommand. */
    private static final Set<String> VALUED = Set.of("-c", "--config", "-m", "--model", "-p", "--profile", "-s", "--sandbox", "-a",
            "--ask-for-approval", "-C", "--cd", "-i", "--image", "--add-dir", "--enable", "--disable", "--remote", "--local-provider");

    private static final LaunchOptions CARRIED = new LaunchOptions(
            Set.of("-m", "--model", "-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval"), Set.of(), Set.of("--no-daemon"));

    private Codex() {}

    @Override public String name() { return "codex"; }

    @Override
    public boolean is(Procfs.Proc p) {
        if (p.argv().isEmpty()) return false;
        Path argv0 = Path.of(p.argv().get(0)).getFileName();
        if (!p.comm().equals("codex") && (argv0 == null || !argv0.toString().equals("codex"))) return false;
        Optional<String> sub = subcommand(p.argv());
        return sub.isEmpty() || !NOT_TUI.contains(sub.get());
    }

    /** The first argument that is not an option or an option's value: a subcommand, or a prompt. */
    static Optional<String> subcommand(List<String> argv) {
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("--")) return Optional.empty();
            if (VALUED.contains(a)) {
                i++;
                continue;
            }
            if (!a.startsWith("-")) return Optional.of(a);
        }
        return Optional.empty();
    }

    @Override public boolean isId(String id) { return ConversationId.isUuid(id); }

    @Override public String homeVariable() { return "CODEX_HOME"; }

    @Override public Path defaultHome(Accounts.Account account) { return account.home().resolve(".codex"); }

    @Override
    public Optional<Conversation> conversation(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        Path configured = home(procs, account, p);
        Optional<Path> home = UserFiles.trustedDir(configured, account.uid());
        Optional<Path> cwd = procs.cwd(p.pid());
        if (home.isPresent()) {
            Rollouts rollouts = new Rollouts(home.get(), account.uid());
            Optional<Rollouts.Meta> held = procs.openFiles(p.pid()).stream().filter(rollouts::holds).distinct()
                    .map(rollouts::meta).flatMap(Optional::stream).max(Comparator.comparing(Rollouts.Meta::created));
            if (held.isPresent()) return Optional.of(found(held.get().id(), Conversation.Source.RECORD, held.get().cwd(), home.get(), cwd));
        }
        Optional<String> resumed = resumedArgv(p.argv());
        if (resumed.isPresent()) {
            Path start = home.flatMap(h -> stored(account, h, resumed.get())).map(Stored::startDir).orElse(null);
            return Optional.of(new Conversation(this, resumed.get(), Conversation.Source.ARGV, start != null ? start : cwd.orElse(null), home.orElse(configured)));
        }
        if (home.isEmpty() || cwd.isEmpty()) return Optional.empty();
        return madeAtStart(procs, account, p, home.get(), cwd.get())
                .map(m -> found(m.id(), Conversation.Source.FILE, m.cwd(), home.get(), cwd));
    }

    /** {@code resume <uuid>} in argv (options before it skipped). */
    public static Optional<String> resumedArgv(List<String> argv) {
        for (int i = 1; i + 1 < argv.size(); i++) {
            if (argv.get(i).equals("resume") && ConversationId.isUuid(argv.get(i + 1))) return Optional.of(argv.get(i + 1));
            if (VALUED.contains(argv.get(i))) i++;
            else if (!argv.get(i).startsWith("-")) return Optional.empty(); // a prompt or another subcommand
        }
        return Optional.empty();
    }

    /**
     * The one thread made in {@code cwd} within {@link #STARTUP} of {@code p}'s start, when no
     * other codex TUI of the user runs in that cwd having started that close to it: the thread
     * could be either's. One started to resume a thread makes none at its start: it is no rival.
     */
    private Optional<Rollouts.Meta> madeAtStart(Procfs procs, Accounts.Account account, Procfs.Proc p, Path home, Path cwd) {
        Instant started = procs.startTime(p);
        for (Procfs.Proc other : procs.all()) {
            if (other.pid() == p.pid() || other.uid() != account.uid() || !is(other) || resumedArgv(other.argv()).isPresent()
                    || !procs.cwd(other.pid()).equals(Optional.of(cwd))) continue;
            if (Duration.between(procs.startTime(other), started).abs().compareTo(STARTUP) <= 0) return Optional.empty();
        }
        Rollouts rollouts = new Rollouts(home, account.uid());
        List<Rollouts.Meta> made = rollouts.around(started).stream()
                .map(rollouts::meta).flatMap(Optional::stream)
                .filter(m -> cwd.equals(m.cwd()) && !m.created().isBefore(started.minusSeconds(1)) && m.created().isBefore(started.plus(STARTUP)))
                .toList();
        return made.size() == 1 ? Optional.of(made.get(0)) : Optional.empty();
    }

    private Conversation found(String id, Conversation.Source source, Path start, Path home, Optional<Path> cwd) {
        return new Conversation(this, id, source, start != null ? start : cwd.orElse(null), home);
    }

    @Override
    public Optional<Stored> stored(Accounts.Account account, Path home, String id) {
        Rollouts rollouts = new Rollouts(home, account.uid());
        return rollouts.find(id).map(f -> new Stored(rollouts.meta(f).map(Rollouts.Meta::cwd).orElse(null), UserFiles.modified(f)));
    }

    @Override
    public String gone(Path home) {
        return "its rollout file is no longer under " + home.resolve("sessions") + " (deleted, or archived)";
    }

    @Override public List<String> resumeArgs(String id) { return List.of("resume", id); }

    @Override public List<String> carried(List<String> argv) { return CARRIED.carried(argv); }
}

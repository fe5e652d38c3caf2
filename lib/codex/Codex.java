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
        Optional<Path> cwd = workingDir(procs, p);
        Optional<Rollouts> rollouts = home.map(h -> new Rollouts(h, account.uid()));
        if (rollouts.isPresent()) {
            Optional<Rollouts.Meta> held = procs.openFiles(p.pid()).stream().filter(rollouts.get()::holds).distinct()
                    .map(rollouts.get()::meta).flatMap(Optional::stream).filter(Rollouts.Meta::madeInTui)
                    .max(Comparator.comparing(Rollouts.Meta::created));
            if (held.isPresent()) return Optional.of(found(held.get().id(), Conversation.Source.RECORD, held.get().cwd(), home.orElse(configured), cwd));
        }
        Optional<String> resumed = resumedArgv(p.argv());
        if (resumed.isPresent()) {
            // A save looks only where the id's time says: the full walk is a restore's (Stored).
            Path start = rollouts.flatMap(r -> r.find(resumed.get(), false).flatMap(r::meta)).map(Rollouts.Meta::cwd).orElse(null);
            return Optional.of(found(resumed.get(), Conversation.Source.ARGV, start, home.orElse(configured), cwd));
        }
        if (rollouts.isEmpty() || cwd.isEmpty()) return Optional.empty();
        return madeAtStart(procs, account, p, rollouts.get(), cwd.get())
                .map(m -> found(m.id(), Conversation.Source.FILE, m.cwd(), home.orElse(configured), cwd));
    }

    /** Where the TUI works: its {@code -C}/{@code --cd} folder (against its cwd) when given, else its cwd. */
    static Optional<Path> workingDir(Procfs procs, Procfs.Proc p) {
        Optional<Path> cwd = procs.cwd(p.pid());
        List<String> a = p.argv();
        for (int i = 1; i + 1 < a.size(); i++) {
            if (a.get(i).equals("--")) break;
            if ((a.get(i).equals("-C") || a.get(i).equals("--cd")) && a.get(i + 1).indexOf('\0') < 0) {
                String dir = a.get(i + 1);
                return dir.startsWith("/") ? Optional.of(Path.of(dir).normalize()) : cwd.map(c -> c.resolve(dir).normalize());
            }
        }
        return cwd;
    }

    /** {@code resume [options] <uuid>} in argv (options before and after {@code resume} skipped). */
    public static Optional<String> resumedArgv(List<String> argv) {
        Optional<String> sub = subcommand(argv);
        if (sub.isEmpty() || !sub.get().equals("resume")) return Optional.empty();
        for (int i = argv.indexOf("resume") + 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (VALUED.contains(a)) i++;
            else if (!a.startsWith("-")) return ConversationId.isUuid(a) ? Optional.of(a) : Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * The one thread made in {@code cwd} within {@link #STARTUP} of {@code p}'s start, when no
     * other codex TUI of the user runs in that cwd having started that close to it: the thread
     * could be either's. One started to resume a thread makes none at its start: it is no rival.
     */
    private Optional<Rollouts.Meta> madeAtStart(Procfs procs, Accounts.Account account, Procfs.Proc p, Rollouts rollouts, Path cwd) {
        Instant started = procs.startTime(p);
        Instant from = procs.surelyStarted(p), to = started.plus(STARTUP);
        for (Procfs.Proc other : procs.all()) {
            if (other.pid() == p.pid() || other.uid() != account.uid() || !is(other) || resumedArgv(other.argv()).isPresent()) continue;
            // A rival's window overlaps this one's by any amount: its thread could fall in this one's.
            if (Duration.between(procs.startTime(other), started).abs().compareTo(STARTUP.plusSeconds(1)) <= 0
                    && workingDir(procs, other).equals(Optional.of(cwd))) return Optional.empty();
        }
        List<Rollouts.Meta> made = rollouts.madeBetween(started, to).stream()
                .map(rollouts::meta).flatMap(Optional::stream)
                .filter(m -> m.madeInTui() && cwd.equals(m.cwd()) && !m.created().isBefore(from) && m.created().isBefore(to))
                .toList();
        return made.size() == 1 ? Optional.of(made.get(0)) : Optional.empty();
    }

    /** The conversation, started in {@code start} (else where the TUI works), under {@code home} as the process named it. */
    private Conversation found(String id, Conversation.Source source, Path start, Path home, Optional<Path> cwd) {
        return new Conversation(this, id, source, start != null ? start : cwd.orElse(null), home);
    }

    @Override
    public Optional<Stored> stored(Accounts.Account account, Path home, String id) {
        Rollouts rollouts = new Rollouts(home, account.uid());
        return rollouts.find(id, true).map(f -> new Stored(rollouts.meta(f).map(Rollouts.Meta::cwd).orElse(null), UserFiles.modified(f)));
    }

    @Override
    public Optional<Path> file(Accounts.Account account, Path home, String id) {
        return new Rollouts(home, account.uid()).find(id, true);
    }

    @Override
    public String gone(Path home) {
        return "its rollout file is no longer under " + home.resolve("sessions") + " (deleted, or archived)";
    }

    @Override public List<String> resumeArgs(String id) { return List.of("resume", id); }

    @Override public List<String> carried(List<String> argv) { return CARRIED.carried(argv); }
}

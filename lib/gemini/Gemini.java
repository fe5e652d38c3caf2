package gemini;

import assistant.Assistant;
import assistant.Conversation;
import assistant.LaunchOptions;
import assistant.Stored;
import base.Accounts;
import base.AtomicFile;
import base.ConversationId;
import base.Log;
import base.Mode;
import base.Procfs;
import base.UserFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Google's Gemini CLI. The pane runs {@code node .../bin/gemini}, which runs itself again as a
 * child (both comm node); neither holds its chat file open, and no record names the
 * conversation a process holds. What does, most certain first:
 * <ol>
 *   <li>argv {@code --resume <uuid>} or {@code --session-id <uuid>}: ARGV;</li>
 *   <li>the one chat file of its directory's project started within {@link #STARTUP} of the
 *       process (Gemini makes it at start), none of its neighbours' argv naming it, when no other
 *       gemini of the user started in that directory so close: FILE. Never a guess between two.</li>
 * </ol>
 * {@code gemini --resume <uuid>} works only from the conversation's directory. Each start runs a
 * cleanup that can delete a resumed conversation's file (a resume leaves a stray of the same
 * short id): every gemini t3 starts runs with a system-defaults file that turns that cleanup off.
 */
public final class Gemini implements Assistant {
    public static final Gemini INSTANCE = new Gemini();

    /** How long after the process starts its chat file is made (about 2.6 s here). */
    static final Duration STARTUP = Duration.ofSeconds(30);

    /**
     * Root's, 0644, in a folder only root may write (Gemini ignores one whose folder others can
     * write): turns off the session cleanup for the processes t3 starts, and nothing else. In
     * single-user mode hers, in her config folder ({@link Mode#configDir}).
     */
    static Path defaults() {
        return Mode.current().configDir().resolve("gemini-system-defaults.json");
    }
    static final String NO_CLEANUP = "{\"general\":{\"sessionRetention\":{\"enabled\":false}}}\n";

    private static final LaunchOptions CARRIED = new LaunchOptions(Set.of("-m", "--model", "--approval-mode"), Set.of(), Set.of());

    private Gemini() {}

    @Override public String name() { return "gemini"; }

    /** node running Gemini's script: {@code .../bin/gemini}, {@code gemini.js}, or a file of the @google/gemini-cli package. */
    @Override
    public boolean is(Procfs.Proc p) {
        List<String> a = p.argv();
        if (a.isEmpty()) return false;
        Path argv0 = Path.of(a.get(0)).getFileName();
        if (argv0 != null && argv0.toString().equals("gemini")) return true; // a native or renamed launcher
        if (!p.comm().equals("node")) return false;
        for (int i = 1; i < a.size(); i++) {
            if (a.get(i).startsWith("-")) continue; // node's own options
            Path name = Path.of(a.get(i)).getFileName();
            return name != null && (name.toString().equals("gemini") || name.toString().equals("gemini.js")) || a.get(i).contains("/@google/gemini-cli/");
        }
        return false;
    }

    @Override public boolean isId(String id) { return ConversationId.isUuid(id); }

    /** An idle gemini outlives a killed tmux server (FACTS): without a terminal it is no one's. */
    @Override public boolean holdsWithoutTerminal() { return false; }

    /** GEMINI_CLI_HOME moves the folder that holds .gemini (the user's home by default). */
    @Override public String homeVariable() { return "GEMINI_CLI_HOME"; }

    @Override public Path defaultHome(Accounts.Account account) { return account.home(); }

    @Override
    public Optional<Conversation> conversation(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        Path home = home(procs, account, p);
        Optional<Path> cwd = procs.cwd(p.pid());
        Optional<String> named = idInArgv(p.argv());
        Optional<Path> data = UserFiles.trustedDir(home.resolve(".gemini"), account.uid());
        if (named.isPresent()) {
            Path start = data.flatMap(d -> {
                Chats chats = new Chats(d, account.uid());
                return chats.find(named.get()).flatMap(chats::projectRoot);
            }).orElse(cwd.orElse(null));
            return Optional.of(new Conversation(this, named.get(), Conversation.Source.ARGV, start, home));
        }
        if (data.isEmpty() || cwd.isEmpty()) return Optional.empty();
        return madeAtStart(procs, account, p, new Chats(data.get(), account.uid()), cwd.get())
                .map(h -> new Conversation(this, h.id(), Conversation.Source.FILE, cwd.get(), home));
    }

    /** {@code --resume <uuid>}, {@code -r <uuid>}, {@code --session-id <uuid>}, and their {@code =} forms. */
    public static Optional<String> idInArgv(List<String> argv) {
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i), value = null;
            if ((a.equals("--resume") || a.equals("-r") || a.equals("--session-id")) && i + 1 < argv.size()) value = argv.get(i + 1);
            else if (a.startsWith("--resume=")) value = a.substring("--resume=".length());
            else if (a.startsWith("--session-id=")) value = a.substring("--session-id=".length());
            if (ConversationId.isUuid(value)) return Optional.of(value);
        }
        return Optional.empty();
    }

    /**
     * The one chat of {@code cwd}'s project started within {@link #STARTUP} of {@code p}'s start,
     * when no other gemini of the user (not its own relaunched child or parent) started in that
     * directory so close without naming its conversation in argv; a chat a neighbour's argv
     * names is that neighbour's.
     */
    private Optional<Chats.Header> madeAtStart(Procfs procs, Accounts.Account account, Procfs.Proc p, Chats chats, Path cwd) {
        Instant started = procs.startTime(p);
        Set<String> theirs = new HashSet<>();
        for (Procfs.Proc other : procs.all()) {
            if (other.pid() == p.pid() || other.ppid() == p.pid() || other.pid() == p.ppid() || other.uid() != account.uid() || !is(other)) continue;
            Optional<String> named = idInArgv(other.argv());
            boolean close = Duration.between(procs.startTime(other), started).abs().compareTo(STARTUP.plusSeconds(1)) <= 0;
            if ((named.isPresent() || close) && procs.cwd(other.pid()).equals(Optional.of(cwd))) {
                if (named.isPresent()) theirs.add(ConversationId.normal(named.get()));
                else return Optional.empty();
            }
        }
        String hash = Chats.projectHash(cwd);
        Instant from = procs.surelyStarted(p);
        List<Chats.Header> made = chats.begunBetween(started, started.plus(STARTUP)).stream().map(chats::header).flatMap(Optional::stream)
                .filter(h -> h.main() && h.projectHash().equals(hash) && !theirs.contains(ConversationId.normal(h.id()))
                        && !h.started().isBefore(from) && h.started().isBefore(started.plus(STARTUP)))
                .toList();
        return made.size() == 1 ? Optional.of(made.get(0)) : Optional.empty();
    }

    @Override
    public Optional<Stored> stored(Accounts.Account account, Path home, String id) {
        Optional<Path> data = UserFiles.trustedDir(home.resolve(".gemini"), account.uid());
        if (data.isEmpty()) return Optional.empty();
        Chats chats = new Chats(data.get(), account.uid());
        return chats.find(id).map(h -> new Stored(chats.projectRoot(h).orElse(null), UserFiles.modified(h.file())));
    }

    @Override
    public Optional<Path> file(Accounts.Account account, Path home, String id) {
        return UserFiles.trustedDir(home.resolve(".gemini"), account.uid()).flatMap(d -> new Chats(d, account.uid()).find(id)).map(Chats.Header::file);
    }

    @Override
    public String gone(Path home) {
        return "its chat file is no longer under " + home.resolve(".gemini/tmp") + " (Gemini's cleanup deletes old ones)";
    }

    @Override public List<String> resumeArgs(String id) { return List.of("--resume", id); }

    @Override public List<String> carried(List<String> argv) { return CARRIED.carried(argv); }

    /**
     * Points the gemini t3 starts at {@link #defaults}, written first when it is missing or not
     * what it must be: resuming conversations one after another must not let each start delete
     * the last one's file. Without it (it could not be written) gemini runs as the user set it.
     */
    @Override
    public Map<String, String> resumeEnv() {
        Path file = defaults();
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !Files.readString(file).equals(NO_CLEANUP)) {
                Files.createDirectories(file.getParent());
                Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
                AtomicFile.write(file, NO_CLEANUP.getBytes(java.nio.charset.StandardCharsets.UTF_8), PosixFilePermissions.fromString("rw-r--r--"));
            }
            return Map.of("GEMINI_CLI_SYSTEM_DEFAULTS_PATH", file.toString());
        } catch (IOException | RuntimeException e) {
            Log.warn("gemini: cannot write %s (%s): the gemini processes t3 starts keep their session cleanup, which can delete a resumed conversation's file",
                    file, e.getMessage());
            return Map.of();
        }
    }
}

package assistant;

import base.Accounts;
import base.Procfs;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What t3 needs to know of one coding assistant to keep its conversations: how to recognise its
 * process below a pane, which conversation a running process holds (most certain evidence
 * first; none rather than a guess between two), where its conversations are kept and whether
 * one still is, how to resume one and where, which launch options are safe to carry, and what a
 * crash leaves behind. One package per assistant implements it; save, restore and heal know
 * assistants only through this (and {@code assistants.Assistants}, the one list of them).
 */
public interface Assistant {
    /** Its name: the snapshot's ASSISTANT field, its T3_&lt;NAME&gt; setting's, the logs'. */
    String name();

    /** Whether {@code p} is its process: the one whose conversation is read (the program a pane runs). */
    boolean is(Procfs.Proc p);

    /** Whether {@code id} has the shape of its conversation ids: anything else from a file or an argv is not one. */
    boolean isId(String id);

    /** The environment variable that moves its home (where it keeps everything), for a pane whose conversation ran under another. */
    String homeVariable();

    /** Its home when {@link #homeVariable()} is not set. */
    Path defaultHome(Accounts.Account account);

    /** The home a saved pane names ({@code saved}: its HOME field, null for the default), as a path. */
    default Path home(Accounts.Account account, String saved) {
        return saved != null ? Path.of(saved) : defaultHome(account);
    }

    /** The home process {@code p} runs with: its own {@link #homeVariable()} when set to an absolute path, else the default. */
    default Path home(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        return procs.environ(p.pid(), homeVariable())
                .filter(s -> s.startsWith("/") && s.indexOf('\0') < 0)
                .map(Path::of)
                .orElse(defaultHome(account));
    }

    /**
     * The conversation process {@code p} (one of its, the user's) holds, by the most certain
     * evidence there is; none when unsure. Throws {@link CannotTell} when its files could not be read.
     */
    Optional<Conversation> conversation(Procfs procs, Accounts.Account account, Procfs.Proc p);

    /** Conversation {@code id} as kept under {@code home} (a trusted dir of the user's), when it still is; {@link CannotTell} when not known. */
    Optional<Stored> stored(Accounts.Account account, Path home, String id);

    /**
     * The one file conversation {@code id} is kept in under {@code home} (a trusted dir of the
     * user's), when it is kept in one: what t3 keeps a copy of against the assistant's own
     * cleanup. Empty where it is not (a database row) or not there now.
     */
    default Optional<Path> file(Accounts.Account account, Path home, String id) {
        return Optional.empty();
    }

    /**
     * What a person calls conversation {@code id}, for a picker: the name she gave it, else its
     * first prompt, read (bounded) from its file; empty where the assistant keeps none we read.
     */
    default Optional<String> title(Accounts.Account account, Path home, String id) {
        return Optional.empty();
    }

    /** Why a conversation that is no longer kept under {@code home} cannot come back, in words. */
    String gone(Path home);

    /** What follows its command (and the carried options) to resume {@code id}, such as {@code --resume ID}. */
    List<String> resumeArgs(String id);

    /** Environment every process t3 starts to resume one of its conversations gets (beside its home's variable). */
    default java.util.Map<String, String> resumeEnv() {
        return java.util.Map.of();
    }

    /** The launch options in a process's argv worth carrying to its resume (an allowlist; none by default). */
    default List<String> carried(List<String> argv) {
        return List.of();
    }

    /**
     * Whether process {@code p}, started to resume a conversation, has got going (not one that
     * fails at once): by default once it has run {@link #STARTING}, as one that cannot find its
     * conversation ends within a second or two.
     */
    default boolean started(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        return procs.startTime(p).plus(STARTING).isBefore(java.time.Instant.now());
    }

    /** How long an assistant without a better sign of it counts as still starting. */
    java.time.Duration STARTING = java.time.Duration.ofSeconds(5);

    /** Bytes each start leaves in the temporary folder for good (OpenCode: its libraries), which a mass restore must have room for. */
    default long leavesInTmp() {
        return 0;
    }

    /**
     * Whether one of its processes without a terminal still holds its conversation (a
     * background agent does). One that is only ever a TUI says no: an idle gemini outlives
     * its tmux server with no terminal, talked to by no one, and must not stop its
     * conversation from coming back.
     */
    default boolean holdsWithoutTerminal() {
        return true;
    }

    /**
     * Whether it leaves evidence that tells a kill from its user's exit ({@link #crashes}). One
     * that does not: a conversation that stopped running in a pane is kept as stopped, not
     * exited, and the next boot or blanket restore resumes it (a user's exit cannot be told).
     */
    default boolean tellsKillFromExit() {
        return false;
    }

    /**
     * The crashes of this boot it left evidence of under {@code homes} (trusted dirs of the
     * user's): each a process of the user's killed, not ended by its user. None by default: an
     * assistant that leaves no such evidence is never healed in place (a blanket restore brings
     * its conversations back).
     */
    default List<Crash> crashes(Procfs procs, Accounts.Account account, Set<Path> homes) {
        return List.of();
    }
}

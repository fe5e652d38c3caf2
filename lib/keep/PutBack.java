package keep;

import assistant.Assistant;
import assistant.CannotTell;
import assistant.Stored;
import base.Accounts;
import base.Exec;
import base.Log;
import base.Settings;
import base.UserFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import store.StateStore;
import tmux.Tmux;

/**
 * Puts a kept conversation file ({@link Kept}) back where its assistant looks for it, when the
 * user's own is gone: written by a child run as her (her permissions decide where it may go,
 * and the file is hers), beside its place under a temporary name, then linked into place, so it
 * never replaces a file that is there. Then the conversation is looked up again as the assistant
 * keeps it. A dry run says it would, and writes nothing.
 */
public final class PutBack {
    /** A conversation back (or, in a dry run, that would be): as its assistant now keeps it, and how it came back, in words. */
    public record Back(Stored stored, String how) {}

    /** Looks at no kept file: for callers without a state dir. */
    public static final PutBack NONE = new PutBack(null, null, () -> null, true);

    /** A put-back may take this long: a large file off a slow disk, not a hung one. */
    static final Duration DEADLINE = Duration.ofSeconds(30);

    /**
     * Run as the user, with $1 the folder and $2 the name: her umask for what it makes, a name of
     * its own, her data from our stdin, then ln, which fails rather than replace a file there.
     */
    static final String SCRIPT = "umask 077; set -e; mkdir -p -- \"$1\"; tmp=$(mktemp -- \"$1/.t3-put-back.XXXXXX\");"
            + " trap 'rm -f -- \"$tmp\"' EXIT; trap 'exit 1' TERM INT HUP; cat > \"$tmp\"; ln -T -- \"$tmp\" \"$1/$2\"";

    private final Accounts.Account account;
    private final Settings settings;
    private final Supplier<Kept> kept;
    private final boolean dryRun;
    private Kept read;

    private PutBack(Accounts.Account account, Settings settings, Supplier<Kept> kept, boolean dryRun) {
        this.account = account;
        this.settings = settings;
        this.kept = kept;
        this.dryRun = dryRun;
    }

    /** For {@code account}'s conversations, from what {@code store} keeps (read when first needed); {@code dryRun}: say, write nothing. */
    public static PutBack of(StateStore store, Accounts.Account account, Settings settings, boolean dryRun) {
        return new PutBack(account, settings, () -> Kept.read(store, account.name()), dryRun);
    }

    private synchronized Optional<Kept> kept() {
        if (read == null) read = kept.get();
        return Optional.ofNullable(read);
    }

    /** The kept file of {@code a}'s conversation {@code id}, when there is one. */
    public Optional<Kept.Entry> entry(Assistant a, String id) {
        return kept().flatMap(k -> k.present(a.name(), id));
    }

    /**
     * Conversation {@code id} of {@code a}, gone from {@code homeDir}: its kept file put back there
     * and the conversation as {@code a} then keeps it; empty when nothing is kept of it or it
     * could not go back (said).
     */
    public Optional<Back> back(Assistant a, Path homeDir, String id) {
        Optional<Kept.Entry> entry = entry(a, id);
        if (entry.isEmpty()) return Optional.empty();
        Kept.Entry e = entry.get();
        Optional<Path> target = e.below(homeDir);
        // Only into her assistant's home as it is, hers: a home she removed whole (rm -rf ~/.claude) was her choice,
        // and a folder someone else made under that name is not hers to write into.
        if (target.isEmpty() || UserFiles.trustedDir(homeDir, account.uid()).isEmpty()) {
            return Optional.empty();
        }
        if (dryRun) {
            return Optional.of(new Back(new Stored(null, Instant.ofEpochMilli(e.modified())), "its file is gone; t3's kept copy would go back to " + target.get()));
        }
        Path dir = target.get().getParent();
        List<String> cmd = new ArrayList<>(Tmux.of(account, settings).asUser(false));
        cmd.addAll(List.of("sh", "-c", SCRIPT, "t3-put-back", dir.toString(), target.get().getFileName().toString()));
        Exec.Result r = Exec.run(cmd, DEADLINE, read.file(e));
        Optional<Stored> stored;
        try {
            stored = UserFiles.trustedDir(homeDir, account.uid()).flatMap(h -> a.stored(account, h, id));
        } catch (CannotTell x) {
            stored = Optional.empty();
        }
        if (stored.isEmpty()) {
            Log.warn("%s: %s conversation %s: its file is gone and t3's kept copy could not go back to %s (%s)", account.name(), a.name(), id,
                    target.get(), r.timedOut() ? "timed out" : r.ok() ? "put there, but " + a.name() + " does not find it" : r.firstErrorLine());
            return Optional.empty();
        }
        if (!r.ok()) {
            // ln refused: her assistant (or she) made the file again meanwhile. Hers wins; t3's copy stays kept.
            Log.info("%s: %s conversation %s: its file is at %s again; left as it is, t3's kept copy not put back", account.name(), a.name(), id,
                    target.get());
            return Optional.of(new Back(stored.get(), "its file is there again"));
        }
        Log.info("%s: %s conversation %s: its file was gone; put t3's kept copy back at %s, as %s", account.name(), a.name(), id, target.get(),
                account.name());
        return Optional.of(new Back(stored.get(), "its file was gone; t3's kept copy was put back"));
    }
}

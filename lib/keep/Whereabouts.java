package keep;

import assistant.Assistant;
import assistant.CannotTell;
import assistants.Assistants;
import base.Accounts;
import base.UserFiles;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import store.SavedPane;
import store.StateStore;

/**
 * Where a saved conversation's file is now, for --list: still where its assistant keeps it,
 * gone there but kept by t3 (a restore puts it back), or lost (gone, and no copy). Each is
 * looked up once however many snapshots name it.
 */
public final class Whereabouts {
    public enum Place {
        /** Its assistant still keeps it (t3 may keep a copy too). */
        THERE,
        /** Gone from its assistant; t3's kept copy goes back on a restore. */
        KEPT,
        /** Gone, and no copy: it cannot come back. */
        LOST,
        /** Not known: an assistant this release does not know, a database row, files that cannot be read now. */
        UNKNOWN
    }

    private final Accounts.Account account;
    private final Kept kept;
    private final Map<String, Place> seen = new HashMap<>();

    public Whereabouts(StateStore store, Accounts.Account account) {
        this.account = account;
        this.kept = Kept.read(store, account.name());
    }

    public Place of(SavedPane p) {
        return seen.computeIfAbsent(Kept.key(p.assistant(), p.conversation()), k -> look(p));
    }

    private Place look(SavedPane p) {
        Optional<Assistant> a = Assistants.named(p.assistant());
        if (a.isEmpty() || !a.get().isId(p.conversation())) return Place.UNKNOWN;
        Path homeDir = a.get().home(account, p.home());
        try {
            Optional<Path> home = UserFiles.trustedDir(homeDir, account.uid());
            if (home.isPresent() && a.get().stored(account, home.get(), p.conversation()).isPresent()) return Place.THERE;
        } catch (CannotTell e) {
            return Place.UNKNOWN;
        }
        return kept.present(a.get().name(), p.conversation()).isPresent() ? Place.KEPT : Place.LOST;
    }
}

package store;

import base.Log;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The rows a restore still owes one user ({@code USER.pending}). A restore writes them BEFORE it
 * creates anything and strikes each off as it comes back, so a restore killed at any point
 * leaves every row it did not bring back owed; saves keep owed rows in the snapshot until a
 * restore brings them back, so no crash of a restore loses a session.
 */
public final class Owed {
    private final StateStore store;
    private final String user;

    Owed(StateStore store, String user) {
        this.store = store;
        this.user = user;
    }

    /** The owed rows (none when there is no record). Unreadable rows are reported and skipped. */
    public List<SavedSession> rows() throws IOException {
        try {
            SnapshotFormat.Parsed p = SnapshotFormat.parse(StateStore.readOwn(store.owedFile(user)));
            p.problems().forEach(x -> Log.error("%s: %s line %d: %s; row skipped", user, store.owedFile(user), x.line(), x.text()));
            return p.rows();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /**
     * Before a restore creates anything: owe {@code toCreate}, plus what was owed before and
     * this run does not look at ({@code inScope} names what it looks at).
     */
    public void begin(List<SavedSession> inScope, List<SavedSession> toCreate) throws IOException {
        Set<String> scope = names(inScope);
        List<SavedSession> owed = new ArrayList<>(toCreate);
        Set<String> creating = names(toCreate);
        for (SavedSession r : rows()) if (!scope.contains(r.session()) && !creating.contains(r.session())) owed.add(r);
        set(owed);
    }

    /** One row came back (or the user let it go): no longer owed. */
    public void strike(String session) throws IOException {
        strikeAll(Set.of(session));
    }

    /** These rows came back: no longer owed (one write for a whole batch). */
    public void strikeAll(Set<String> sessions) throws IOException {
        List<SavedSession> owed = new ArrayList<>(rows());
        if (owed.removeIf(r -> sessions.contains(r.session()))) set(owed);
    }

    private void set(List<SavedSession> owed) throws IOException {
        if (owed.isEmpty()) Files.deleteIfExists(store.owedFile(user));
        else store.writeOwn(store.owedFile(user), SnapshotFormat.format(owed));
    }

    private static Set<String> names(List<SavedSession> rows) {
        Set<String> s = new HashSet<>();
        rows.forEach(r -> s.add(r.session()));
        return s;
    }
}

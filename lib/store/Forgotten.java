package store;

import base.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sessions a user closed on purpose ({@code USER.forgotten}: one {@code name<TAB>ISO time} a
 * line, fields escaped as in snapshots). Blanket and boot restores skip a forgotten name until
 * a save sees it live again; explicit requests (--find, --snapshot --session) still bring it
 * back. History itself is never edited.
 */
public final class Forgotten {
    private final StateStore store;
    private final String user;

    Forgotten(StateStore store, String user) {
        this.store = store;
        this.user = user;
    }

    /** Forgotten names and when. */
    public Map<String, Instant> read() throws IOException {
        Map<String, Instant> out = new TreeMap<>();
        byte[] raw;
        try {
            raw = StateStore.readOwn(store.forgottenFile(user));
        } catch (NoSuchFileException e) {
            return out;
        }
        String[] lines = new String(raw, StandardCharsets.UTF_8).split("\n");
        for (int i = 0; i < lines.length; i++) {
            String[] f = lines[i].split("\t", -1);
            if (lines[i].isEmpty() || lines[i].startsWith("#")) continue;
            try {
                if (f.length != 2) throw new DateTimeParseException("expected name<TAB>time", lines[i], 0);
                out.put(SnapshotFormat.unescape(f[0]), Instant.parse(f[1]));
            } catch (DateTimeParseException e) {
                Log.error("%s: %s line %d: not a name<TAB>time line; ignored", user, store.forgottenFile(user), i + 1);
            }
        }
        return out;
    }

    public void add(String session, Instant now) throws IOException {
        Map<String, Instant> all = read();
        all.put(session, now);
        write(all);
    }

    /**
     * A save saw these sessions live (name to when tmux created it): one created after its
     * forgotten name is wanted again (a session still live when it was forgotten is not). Returns the
     * names cleared.
     */
    public Collection<String> clearSeen(Map<String, Instant> live) throws IOException {
        Map<String, Instant> all = read();
        java.util.List<String> seen = all.entrySet().stream()
                .filter(e -> live.containsKey(e.getKey()) && live.get(e.getKey()).isAfter(e.getValue())).map(Map.Entry::getKey).toList();
        if (seen.isEmpty()) return seen;
        all.keySet().removeAll(seen);
        write(all);
        return seen;
    }

    private void write(Map<String, Instant> all) throws IOException {
        if (all.isEmpty()) {
            Files.deleteIfExists(store.forgottenFile(user));
            return;
        }
        StringBuilder b = new StringBuilder("# t3-tmux forgotten sessions\tsession\ttime\n");
        all.forEach((name, at) -> b.append(SnapshotFormat.escape(name)).append('\t').append(at).append('\n'));
        store.writeOwn(store.forgottenFile(user), b.toString());
    }
}

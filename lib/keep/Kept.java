package keep;

import base.ConversationId;
import base.Json;
import base.Log;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import store.StateStore;

/**
 * One user's kept conversation files: {@code kept/USER/ASSISTANT-ID}, each the file an assistant
 * kept a conversation in, as it was when last looked at, and {@code kept/USER.json}, what each
 * is and where it goes back. A copy is root's (single-user mode: hers), 0600; where the state
 * dir shares her file system it is a hard link to her very file instead, so an unchanged file
 * costs no disk until her assistant deletes its own name for it. Only the state dir's 0700
 * folders lead to either.
 */
public final class Kept {
    /**
     * One kept file: whose conversation ({@code assistant}, {@code id}), the home it was kept
     * from and its {@code path} below it (where it goes back), its size and mtime (ms) and inode
     * ({@code inode}: the file key) when kept, whether it is a hard link, and {@code seen}: the
     * newest snapshot that names it (it is released once that one is pruned).
     */
    public record Entry(String assistant, String id, String home, String path, long size, long modified, String inode, boolean linked,
                        String seen) {
        public String key() { return Kept.key(assistant, id); }

        Entry seen(String snapshot) {
            return new Entry(assistant, id, home, path, size, modified, inode, linked, snapshot);
        }

        /** A link's entry as her file is now (the same inode, grown). */
        Entry sized(long size, long modified) {
            return new Entry(assistant, id, home, path, size, modified, inode, linked, seen);
        }

        /** Where it goes back below {@code home}: its path, when it is a plain relative one (no "..", no root). */
        public Optional<Path> below(Path home) {
            Path p = Path.of(path);
            if (p.isAbsolute() || !p.equals(p.normalize()) || p.getNameCount() == 0 || p.startsWith("..") || path.indexOf('\0') >= 0) return Optional.empty();
            return Optional.of(home.resolve(p));
        }
    }

    private static final Pattern ASSISTANT = Pattern.compile("[a-z][a-z0-9-]{0,30}");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private final StateStore store;
    private final String user;
    private final Map<String, Entry> entries;
    private final boolean found;
    private long checked;
    private long budget;

    private Kept(StateStore store, String user, Map<String, Entry> entries, boolean found, long checked, long budget) {
        this.store = store;
        this.user = user;
        this.entries = entries;
        this.found = found;
        this.checked = checked;
        this.budget = budget;
    }

    /** The key of one conversation: its assistant and id (lower case). */
    public static String key(String assistant, String id) {
        return assistant + " " + ConversationId.normal(id);
    }

    /** What is kept for {@code user}; none when nothing is. An entry that does not read as one is dropped (said). */
    public static Kept read(StateStore store, String user) {
        Path f = store.keptIndex(user);
        Map<String, Entry> entries = new LinkedHashMap<>();
        if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) return new Kept(store, user, entries, false, 0, 0);
        long checked = 0, budget = 0;
        try {
            JsonNode root = Json.MAPPER.readTree(StateStore.readOwn(f));
            checked = root.path("checked").asLong(0);
            budget = root.path("budget").asLong(0);
            int bad = 0;
            for (JsonNode n : root.path("files")) {
                Optional<Entry> e = entry(n);
                if (e.isPresent()) entries.put(e.get().key(), e.get());
                else bad++;
            }
            if (bad > 0) Log.warn("%s: %d entries of %s do not read as kept files; dropped", user, bad, f);
        } catch (IOException | RuntimeException e) {
            Log.warn("%s: cannot read %s (%s); what it kept is looked at again from the snapshots", user, f, e.getMessage());
            return new Kept(store, user, entries, false, 0, 0);
        }
        return new Kept(store, user, entries, true, checked, budget);
    }

    private static Optional<Entry> entry(JsonNode n) {
        Entry e = new Entry(n.path("assistant").asText(""), n.path("id").asText(""), n.path("home").asText(""), n.path("path").asText(""),
                n.path("size").asLong(-1), n.path("modified").asLong(0), n.path("inode").asText(""), n.path("linked").asBoolean(false),
                n.path("seen").asText(""));
        boolean ok = ASSISTANT.matcher(e.assistant()).matches() && ID.matcher(e.id()).matches() && e.home().startsWith("/")
                && e.size() >= 0 && e.below(Path.of(e.home())).isPresent();
        return ok ? Optional.of(e) : Optional.empty();
    }

    /** Whether an index was there to read (none: the first pass reads every snapshot). */
    public boolean found() { return found; }

    /** When every kept file was last looked at (ms since the epoch; 0: never). */
    public long checked() { return checked; }

    /** The bound (bytes) the last pass kept within: a higher one now may keep what it left out. */
    public long budget() { return budget; }

    public Optional<Entry> entry(String assistant, String id) {
        return Optional.ofNullable(entries.get(key(assistant, id)));
    }

    public Collection<Entry> entries() { return List.copyOf(entries.values()); }

    /** The entry of {@code assistant}'s conversation {@code id} whose file is there: what a put-back can give. */
    public Optional<Entry> present(String assistant, String id) {
        return entry(assistant, id).filter(this::present);
    }

    /** Whether {@code e}'s file is there (a regular file, not a symlink). */
    public boolean present(Entry e) {
        return Files.isRegularFile(file(e), LinkOption.NOFOLLOW_LINKS);
    }

    /** Where {@code e}'s file lies: its name is only its assistant and id, both checked for plain characters. */
    public Path file(Entry e) {
        return store.keptDir(user).resolve(e.assistant() + "-" + ConversationId.normal(e.id()));
    }

    /** Whether a file may be named for {@code assistant} and {@code id} here. */
    static boolean nameable(String assistant, String id) {
        return ASSISTANT.matcher(assistant).matches() && ID.matcher(id).matches();
    }

    public Path dir() { return store.keptDir(user); }

    void put(Entry e) {
        entries.put(e.key(), e);
    }

    /** Forgets {@code e} and deletes its file. */
    void release(Entry e) throws IOException {
        entries.remove(e.key());
        Files.deleteIfExists(file(e));
    }

    void checked(long when, long budget) {
        this.checked = when;
        this.budget = budget;
    }

    /** Deletes the index and every kept file: keeping is off (the next pass on reads every snapshot again). */
    void clear() throws IOException {
        for (Entry e : entries()) release(e);
        Files.deleteIfExists(store.keptIndex(user));
        removeStrays();
    }

    /**
     * Deletes the files in the folder no entry names (a run killed between copying and writing the
     * index, an index that did not read): they would sit outside the bound for ever. Returns how many.
     */
    int removeStrays() throws IOException {
        Path dir = store.keptDir(user);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return 0;
        java.util.Set<Path> named = new java.util.HashSet<>();
        for (Entry e : entries.values()) named.add(file(e));
        int removed = 0;
        java.time.Instant old = java.time.Instant.now().minus(java.time.Duration.ofMinutes(10));
        try (var files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                if (named.contains(f)) continue;
                // A temporary file of a run going on now is young: only old ones are a killed run's.
                if (f.getFileName().toString().startsWith(".") && Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant().isAfter(old)) continue;
                if (Files.deleteIfExists(f)) removed++;
            }
        }
        return removed;
    }

    /** Writes the index atomically, root-only. */
    void write() throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("checked", checked);
        root.put("budget", budget);
        ArrayNode files = root.putArray("files");
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(java.util.Comparator.comparing(Entry::key));
        for (Entry e : sorted) files.add(Json.MAPPER.valueToTree(e));
        store.writeOwn(store.keptIndex(user), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }
}

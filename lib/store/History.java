package store;

import base.AtomicFile;
import base.Drift;
import base.Log;
import tmux.Tmux;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One user's snapshots: {@code snapshots/USER/<UTC time>.tsv}, written only when the rows
 * change, never edited, pruned by retention; {@code USER.tsv} points at the newest. Names sort
 * in time order, so the newest is the greatest name.
 */
public final class History {
    /** One snapshot: its name (what --snapshot takes), its time, its file. */
    public record Snapshot(String name, Instant time, Path file) {}

    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Pattern NAME = Pattern.compile("\\d{8}T\\d{6}Z");

    private final StateStore store;
    private final String user;

    History(StateStore store, String user) {
        this.store = store;
        this.user = user;
    }

    /** Every snapshot, newest first. A flat USER.tsv from an older version counts as one, stamped with its mtime. */
    public List<Snapshot> list() throws IOException {
        List<Snapshot> out = new ArrayList<>();
        Path dir = store.historyDir(user);
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.tsv")) {
                for (Path f : ds) {
                    String name = f.getFileName().toString().replaceFirst("\\.tsv$", "");
                    if (NAME.matcher(name).matches() && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) out.add(new Snapshot(name, parse(name), f));
                }
            }
        }
        flat().ifPresent(out::add);
        out.sort(Comparator.comparing(Snapshot::name).reversed());
        return out;
    }

    public Optional<Snapshot> newest() {
        try {
            return list().stream().findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The snapshot a user names: {@code 20261124T193000Z}, with or without ".tsv", or as ISO 8601 ({@code 2026-11-24T19:30:00Z}). */
    public Optional<Snapshot> find(String time) throws IOException {
        String name = time.strip().replaceFirst("\\.tsv$", "").replace("-", "").replace(":", "");
        return list().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public SnapshotFormat.Parsed read(Snapshot s) throws IOException {
        return SnapshotFormat.parse(StateStore.readOwn(s.file()));
    }

    /** The newest snapshot's rows (none when there is no snapshot). */
    public SnapshotFormat.Parsed readNewest() throws IOException {
        return current().parsed();
    }

    /** The newest snapshot (empty when there is none) with what it holds, read together. */
    public record Current(Optional<Snapshot> snapshot, SnapshotFormat.Parsed parsed) {
        public List<SavedSession> rows() { return parsed.rows(); }
    }

    /** The newest snapshot and its rows: a save composes from them, then commits against them without reading again. */
    public Current current() throws IOException {
        Optional<Snapshot> s = newest();
        return new Current(s, s.isEmpty() ? new SnapshotFormat.Parsed(List.of(), List.of()) : read(s.get()));
    }

    /**
     * Records {@code rows} as the newest snapshot, unless they equal the newest already (then
     * nothing is written). Returns the snapshot written. The time is now, or a second past the
     * newest when the clock says otherwise, so names stay unique and in order.
     */
    public Optional<Snapshot> commit(List<SavedSession> rows, Instant now) throws IOException {
        if (migrate()) return commit(rows, now); // a flat file moved: read it from its new place
        Current read = current();
        return commit(rows, read.parsed().server(), now, read);
    }

    /**
     * As {@link #commit(List, Instant)}, with the tmux server the live rows were listed from
     * ({@code server}; null: not known), against {@code read}, the newest as the caller read it
     * under this run's lock (null: read it now), so a save lists and parses the history once.
     */
    public Optional<Snapshot> commit(List<SavedSession> rows, Tmux.Server server, Instant now, Current read) throws IOException {
        if (migrate() || read == null) read = current(); // a flat file moved: its snapshot has a new place
        Optional<Snapshot> newest = read.snapshot();
        if (newest.isPresent() && sameFile(read.parsed(), rows, server)) {
            Optional<Drift> astray = pointerDrift(newest); // deleted by hand, or a run killed between write and point
            if (astray.isPresent()) point(newest.get());
            return Optional.empty();
        }
        Instant time = now.truncatedTo(ChronoUnit.SECONDS);
        if (newest.isPresent() && !time.isAfter(newest.get().time())) time = newest.get().time().plusSeconds(1);
        Snapshot s = write(time, SnapshotFormat.format(rows, server));
        point(s);
        return Optional.of(s);
    }

    /**
     * Records that a save at {@code now} found the rows as the newest snapshot ({@code newest}, as
     * the save read it) has them: its file's
     * mtime (its name keeps the time it was written; its text is never touched). So the newest
     * snapshot's mtime is always the last successful save's time ({@link #lastSaved}).
     */
    public void saw(Optional<Snapshot> newest, Instant now) {
        newest.ifPresent(s -> {
            try {
                if (s.file().startsWith(store.historyDir(user))) Files.setLastModifiedTime(s.file(), java.nio.file.attribute.FileTime.from(now));
            } catch (IOException e) {
                Log.warn("%s: cannot mark snapshot %s as seen now: %s", user, s.file(), e.getMessage());
            }
        });
    }

    /** When a save last succeeded for this user (the newest snapshot's mtime: {@link #saw}); empty when she has no snapshot. */
    public Optional<Instant> lastSaved() {
        return newest().map(s -> {
            try {
                return Files.getLastModifiedTime(s.file(), LinkOption.NOFOLLOW_LINKS).toInstant();
            } catch (IOException e) {
                return s.time();
            }
        });
    }

    /**
     * Moves a flat USER.tsv (an older version's only snapshot) into the history, stamped with its
     * mtime, and leaves the pointer in its place. Once: afterwards the pointer is a symlink.
     */
    public boolean migrate() throws IOException {
        Optional<Snapshot> flat = flat();
        if (flat.isEmpty()) return false;
        Snapshot s = flat.get();
        Instant time = s.time();
        while (Files.exists(store.historyDir(user).resolve(STAMP.format(time) + ".tsv"), LinkOption.NOFOLLOW_LINKS)) time = time.plusSeconds(1);
        Snapshot moved = write(time, new String(StateStore.readOwn(s.file()), java.nio.charset.StandardCharsets.UTF_8));
        Log.info("%s: moved %s into the history as snapshot %s", user, s.file(), moved.name());
        Snapshot newest = list().stream().filter(x -> !x.file().equals(s.file())).findFirst().orElse(moved);
        point(newest);
        return true;
    }

    /**
     * Deletes the snapshots retention lets go: all but the newest {@code keep} that are older
     * than {@code keepFor}. The newest is never deleted. Returns how many went.
     */
    public int prune(int keep, Duration keepFor, Instant now) throws IOException {
        List<Snapshot> all = list();
        Instant cutoff = now.minus(keepFor);
        int removed = 0;
        for (int i = Math.max(1, keep); i < all.size(); i++) {
            Snapshot s = all.get(i);
            if (s.time().isBefore(cutoff) && s.file().startsWith(store.historyDir(user)) && Files.deleteIfExists(s.file())) removed++;
        }
        return removed;
    }

    /** The pointer, when it does not point at the newest snapshot: re-point it. */
    Optional<Drift> pointerDrift() throws IOException {
        return pointerDrift(newest());
    }

    private Optional<Drift> pointerDrift(Optional<Snapshot> newest) throws IOException {
        if (newest.isEmpty() || flat().isPresent()) return Optional.empty();
        Path want = relative(newest.get());
        Path p = store.pointer(user);
        Path have = Files.isSymbolicLink(p) ? Files.readSymbolicLink(p) : null;
        if (want.equals(have)) return Optional.empty();
        return Optional.of(new Drift(p + " points at " + (have == null ? "nothing" : have) + ", not the newest snapshot " + want,
                () -> point(newest.get())));
    }

    /**
     * Whether writing {@code b} would give the file that {@code a} came from: the same text.
     * Not Row.equals: a record's first equals costs a fresh JVM about 12 ms of method-handle
     * set-up, a tenth of a save's own work, for a comparison the text makes as well.
     */
    private static boolean sameFile(SnapshotFormat.Parsed a, List<SavedSession> b, Tmux.Server server) {
        return a.rows().size() == b.size() && SnapshotFormat.format(a.rows(), a.server()).equals(SnapshotFormat.format(b, server));
    }

    private Snapshot write(Instant time, String text) throws IOException {
        StateStore.mkdirPrivate(store.historyDir(user).getParent());
        String name = STAMP.format(time);
        Path f = store.historyDir(user).resolve(name + ".tsv");
        store.writeOwn(f, text);
        return new Snapshot(name, time, f);
    }

    private void point(Snapshot s) throws IOException {
        AtomicFile.symlink(store.pointer(user), relative(s));
    }

    private Path relative(Snapshot s) {
        return store.dir().relativize(s.file());
    }

    /** USER.tsv as a regular file: an older version's snapshot, not yet in the history. */
    private Optional<Snapshot> flat() throws IOException {
        Path p = store.pointer(user);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        Instant mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().truncatedTo(ChronoUnit.SECONDS);
        return Optional.of(new Snapshot(STAMP.format(mtime), mtime, p));
    }

    private static Instant parse(String name) {
        try {
            return Instant.from(STAMP.parse(name));
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }
}

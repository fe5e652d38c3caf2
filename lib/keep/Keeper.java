package keep;

import assistant.Assistant;
import assistant.CannotTell;
import assistants.Assistants;
import base.Accounts;
import base.Cli;
import base.Log;
import base.UserFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import store.History;
import store.SavedPane;
import store.SavedSession;
import store.StateStore;

/**
 * Keeps the file of every conversation a kept snapshot names, against its assistant's own
 * cleanup (claude deletes transcripts untouched for 30 days, FACTS): after a save, a copy (or
 * hard link) of each in {@link Kept}, refreshed when it changed, released when retention has let
 * go of every snapshot naming it. Within {@code T3_KEEP_CONVERSATIONS_MAX} a user, a link
 * counted as a copy (it becomes one when her assistant deletes its name): a file only t3 still
 * has first (it is never released for the bound: nothing could replace it), then the
 * conversations of newer snapshots. The user's files are read as every file of hers: no
 * symlink, hers only, bounded, with a deadline for each and for the pass.
 */
public final class Keeper {
    /** Every kept file is looked at again this often even when no snapshot changed: a conversation's file grows without one. */
    static final Duration RECHECK = Duration.ofHours(1);
    /** A copy (not a link) of a changed file is taken again at most this often: a busy conversation is copied hourly, not every save. */
    static final Duration RECOPY = Duration.ofHours(1);
    /** No one file is kept past this, whatever the user's bound. */
    public static final long FILE_MAX = 256L << 20;
    /** One user's pass may take this long (a FIFO swapped in costs a file its 20 s); what is left waits for the next. */
    static final Duration PASS_DEADLINE = Duration.ofSeconds(60);

    private final Accounts.Account account;
    private final Kept kept;
    private final long budget;

    private Keeper(Accounts.Account account, Kept kept, long budget) {
        this.account = account;
        this.kept = kept;
        this.budget = budget;
    }

    /**
     * After a save of {@code account} (or one that found no server: her files are hers all the
     * same): keeps what {@code history}'s snapshots name. Runs when {@code changed} (a snapshot was
     * written or pruned), the bound changed, or every {@link #RECHECK}; reads the newest snapshot, and every snapshot
     * only the first time (no index yet) or once the bound was raised. Never fails the save: what
     * went wrong is said.
     */
    public static void afterSave(StateStore store, Accounts.Account account, long budget, History history, boolean changed, Instant now) {
        String user = account.name();
        try {
            Kept kept = Kept.read(store, user);
            // A bound other than the last pass's (lowered, or raised) is looked at now, not within the hour.
            if (!changed && budget > 0 && kept.found() && budget == kept.budget() && now.toEpochMilli() - kept.checked() < RECHECK.toMillis()) return;
            if (budget <= 0) {
                if (kept.found()) {
                    kept.clear();
                    Log.info("%s: T3_KEEP_CONVERSATIONS_MAX is 0: released every kept conversation file", user);
                }
                return;
            }
            StateStore.mkdirPrivate(store.keptDir(user).getParent());
            StateStore.mkdirPrivate(store.keptDir(user));
            new Keeper(account, kept, budget).pass(history, now);
        } catch (IOException | RuntimeException e) {
            Log.warn("%s: her conversation files are not kept this time: %s", user, Cli.describe(e));
        }
    }

    /** A conversation a snapshot names: its pane (assistant, id, home) and the newest snapshot naming it. */
    private record Named(SavedPane pane, String snapshot) {}

    /**
     * A conversation to keep: its key, the newest snapshot naming it, its assistant and where its
     * file is now ({@code now}: null when gone or not known now), and its entry when one is kept.
     */
    private record Candidate(String key, String seen, Assistant assistant, Found now, Kept.Entry entry) {
        /** Only t3 has it now: her file is gone. */
        boolean irreplaceable() { return now == null && entry != null; }

        long size() { return now != null ? now.size() : entry != null ? entry.size() : 0; }

        long modified() { return now != null ? now.modified() : entry != null ? entry.modified() : 0; }
    }

    /** Her file as it is now: under the trusted {@code home}, its size, mtime (ms) and inode. */
    private record Found(Path home, Path file, long size, long modified, String inode) {}

    private void pass(History history, Instant now) throws IOException {
        Instant deadline = now.plus(PASS_DEADLINE);
        List<History.Snapshot> all = history.list();
        String oldest = all.isEmpty() ? null : all.get(all.size() - 1).name();
        Map<String, Named> named = named(history, all, !kept.found() || budget > kept.budget());
        int released = releaseUnnamed(named, oldest);

        List<Candidate> candidates = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Named n : named.values()) {
            Candidate c = candidate(n);
            if (c != null && seen.add(c.key())) candidates.add(c);
        }
        for (Kept.Entry e : kept.entries()) {
            if (seen.add(e.key())) candidates.add(unnamed(e));
        }
        candidates.sort(Comparator.comparing(Candidate::irreplaceable).reversed()
                .thenComparing(Comparator.comparing(Candidate::seen).reversed())
                .thenComparing(Comparator.comparingLong(Candidate::modified).reversed()));

        long used = 0;
        int fresh = 0, late = 0;
        List<String> over = new ArrayList<>(), overOnly = new ArrayList<>();
        for (Candidate c : candidates) {
            // A link counts as a copy: it costs no disk while she has her file, but all of it once
            // her assistant deletes its name, and then it is the kind never released for the bound.
            long room = Math.min(FILE_MAX, budget - used);
            boolean tooBig = c.now() != null && c.size() > room;
            // Only t3 has it: gone from her (or swept while this pass went on, before it is released for the
            // bound). Never released for the bound: nothing could replace it. Counted, and said when over.
            if (c.irreplaceable() || tooBig && c.entry() != null && found(c.now().home(), c.now().file()).isEmpty()) {
                used += c.entry().size();
                kept.put(c.entry().seen(c.seen()));
                if (used > budget) overOnly.add(c.key());
                continue;
            }
            if (c.now() == null) continue; // gone, and nothing kept: --list names it lost
            if (tooBig) {
                over.add(c.key());
                if (c.entry() != null) kept.release(c.entry());
                continue;
            }
            if (Instant.now().isAfter(deadline)) {
                late++;
                if (c.entry() != null) kept.put(c.entry().seen(c.seen()));
                continue;
            }
            Optional<Kept.Entry> e = keep(c, room, now);
            if (e.isEmpty()) continue;
            if (c.entry() == null || !e.get().inode().equals(c.entry().inode()) || !e.get().linked() && e.get().modified() != c.entry().modified()) fresh++;
            used += e.get().size();
        }
        int strays = kept.removeStrays();
        kept.checked(now.toEpochMilli(), budget);
        kept.write();
        say(used, fresh, released, strays, late, over, overOnly);
    }

    /** The conversations the snapshots name, each with the newest naming it: the newest snapshot's, or ({@code every}) every one's. */
    private Map<String, Named> named(History history, List<History.Snapshot> all, boolean every) {
        Map<String, Named> named = new LinkedHashMap<>();
        List<History.Snapshot> read = new ArrayList<>(every ? all : all.stream().limit(1).toList());
        java.util.Collections.reverse(read); // oldest first: the newest naming a conversation is remembered
        for (History.Snapshot s : read) {
            try {
                for (SavedSession row : history.read(s).rows()) {
                    for (SavedPane p : row.conversations()) named.put(Kept.key(p.assistant(), p.conversation()), new Named(p, s.name()));
                }
            } catch (IOException e) {
                Log.warn("%s: cannot read snapshot %s to keep its conversations: %s", account.name(), s.file(), Cli.describe(e));
            }
        }
        return named;
    }

    /** Releases what no kept snapshot names any more (every snapshot naming it is older than the oldest left). */
    private int releaseUnnamed(Map<String, Named> named, String oldest) throws IOException {
        int released = 0;
        for (Kept.Entry e : kept.entries()) {
            if (named.containsKey(e.key())) continue;
            if (oldest == null || e.seen().compareTo(oldest) < 0) {
                kept.release(e);
                released++;
            }
        }
        return released;
    }

    /** What is known of the conversation {@code n} names; null for one this release cannot keep (an unknown assistant, a database row). */
    private Candidate candidate(Named n) {
        SavedPane p = n.pane();
        Optional<Assistant> a = Assistants.named(p.assistant());
        if (a.isEmpty() || !a.get().isId(p.conversation()) || !Kept.nameable(a.get().name(), p.conversation())) return null;
        Kept.Entry entry = kept.entry(p.assistant(), p.conversation()).orElse(null);
        return located(Kept.key(p.assistant(), p.conversation()), n.snapshot(), a.get(), a.get().home(account, p.home()), p.conversation(), entry);
    }

    /**
     * A kept file no snapshot read this pass names (only older ones do): looked for again as her
     * assistant finds it, below the home it was kept from, so one she still has is not taken for
     * one only t3 has (that kind is never released for the bound).
     */
    private Candidate unnamed(Kept.Entry e) {
        Optional<Assistant> a = Assistants.named(e.assistant());
        if (a.isEmpty()) return new Candidate(e.key(), e.seen(), null, null, e);
        Candidate c = located(e.key(), e.seen(), a.get(), Path.of(e.home()), e.id(), e);
        return c != null ? c : new Candidate(e.key(), e.seen(), a.get(), null, e);
    }

    /** Where {@code assistant} finds conversation {@code id}'s file below {@code homeDir} now (a Candidate whose {@code now} is null: gone, or not known now). */
    private Candidate located(String key, String seen, Assistant assistant, Path homeDir, String id, Kept.Entry entry) {
        Optional<Path> home = UserFiles.trustedDir(homeDir, account.uid());
        Optional<Path> file;
        try {
            file = home.flatMap(h -> assistant.file(account, h, id));
        } catch (CannotTell e) {
            // Not known now is not gone: what is kept stays as it is, and is not released for the bound.
            return entry == null ? null : new Candidate(key, seen, assistant, null, entry);
        }
        // Below its home with no "..": where a put-back can write it again (a folder of the home symlinked elsewhere is not).
        if (file.isEmpty() || !file.get().startsWith(home.get()) || file.get().equals(home.get())) return new Candidate(key, seen, assistant, null, entry);
        return new Candidate(key, seen, assistant, found(home.get(), file.get()).orElse(null), entry);
    }

    /** Her regular file {@code file} below {@code home} as it is now; empty when it is not there (or not a plain file). */
    private static Optional<Found> found(Path home, Path file) {
        try {
            Map<String, Object> attrs = Files.readAttributes(file, "unix:size,lastModifiedTime,fileKey,isRegularFile", LinkOption.NOFOLLOW_LINKS);
            if (!Boolean.TRUE.equals(attrs.get("isRegularFile"))) return Optional.empty();
            return Optional.of(new Found(home, file, ((Number) attrs.get("size")).longValue(),
                    ((java.nio.file.attribute.FileTime) attrs.get("lastModifiedTime")).toMillis(), String.valueOf(attrs.get("fileKey"))));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Keeps {@code c}'s file within {@code room} bytes, unless what is kept is it as it is (a link
     * to that very inode; a copy of that size and mtime) or a copy taken within {@link #RECOPY}.
     * Returns the entry now kept (the old one when nothing was done); empty when none is.
     */
    private Optional<Kept.Entry> keep(Candidate c, long room, Instant now) throws IOException {
        Kept.Entry e = c.entry();
        Found f = c.now();
        if (e != null && Files.exists(kept.file(e), LinkOption.NOFOLLOW_LINKS)) {
            boolean same = e.linked() ? f.inode().equals(e.inode()) : e.size() == f.size() && e.modified() == f.modified();
            boolean recent = !e.linked() && now.toEpochMilli() - Files.getLastModifiedTime(kept.file(e), LinkOption.NOFOLLOW_LINKS).toMillis() < RECOPY.toMillis();
            if (same || recent) {
                Kept.Entry stays = e.linked() ? e.sized(f.size(), f.modified()).seen(c.seen()) : e.seen(c.seen());
                kept.put(stays);
                return Optional.of(stays);
            }
        }
        String id = c.key().substring(c.key().indexOf(' ') + 1);
        Kept.Entry made = new Kept.Entry(c.assistant().name(), id, f.home().toString(), f.home().relativize(f.file()).toString(), f.size(), f.modified(),
                f.inode(), false, c.seen());
        Path target = kept.file(made);
        Path tmp = target.resolveSibling(".t3-keep-" + Long.toHexString(System.nanoTime()) + ".tmp");
        try {
            boolean linked = link(f, tmp);
            if (!linked && !UserFiles.copyBounded(f.file(), account.uid(), f.home(), room, tmp)) {
                Log.warn("%s: %s conversation %s: its file %s could not be kept (not hers, swapped, over %d MiB, or too slow); what was kept before stays",
                        account.name(), c.assistant().name(), id, f.file(), room >> 20);
                if (e != null) kept.put(e.seen(c.seen()));
                return Optional.ofNullable(e);
            }
            // What was written is what counts against the bound, not what the file said before.
            long size = Files.size(tmp);
            if (!linked) Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Kept.Entry now2 = new Kept.Entry(made.assistant(), id, made.home(), made.path(), size, made.modified(), made.inode(), linked, made.seen());
            kept.put(now2);
            return Optional.of(now2);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A hard link to her very file at {@code tmp}, where the state dir shares its file system.
     * Believed only when the link is the inode that was looked at, a regular file of hers, and that
     * inode is what a walk from / that follows no symlink finds at her file's path: link(2) follows
     * a symlinked folder on the way, and would keep a file of hers from anywhere. False: copy instead.
     */
    private boolean link(Found f, Path tmp) {
        try {
            Object dev = Files.getAttribute(f.file(), "unix:dev", LinkOption.NOFOLLOW_LINKS);
            if (!dev.equals(Files.getAttribute(tmp.getParent(), "unix:dev", LinkOption.NOFOLLOW_LINKS))) return false;
            Files.createLink(tmp, f.file());
            Map<String, Object> a = Files.readAttributes(tmp, "unix:uid,isRegularFile,fileKey", LinkOption.NOFOLLOW_LINKS);
            String key = String.valueOf(a.get("fileKey"));
            if (Boolean.TRUE.equals(a.get("isRegularFile")) && Integer.valueOf(account.uid()).equals(a.get("uid")) && f.inode().equals(key)
                    && UserFiles.keyAt(f.file()).map(k -> k.toString().equals(key)).orElse(false)) {
                return true;
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // copied instead
        }
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // keep's finally tries again
        }
        return false;
    }

    private void say(long used, int fresh, int released, int strays, int late, List<String> over, List<String> overOnly) {
        String user = account.name();
        if (fresh + released + strays + over.size() > 0) {
            Log.info("%s: conversation files kept: %d (%d MiB of the bound's %d, links counted), %d kept now, %d released (no kept snapshot names them)%s",
                    user, kept.entries().size(), used >> 20, budget >> 20, fresh, released, strays == 0 ? "" : ", " + strays + " stray file(s) removed");
        }
        if (!over.isEmpty()) {
            Log.warn("%s: %d conversation file(s) not kept, over T3_KEEP_CONVERSATIONS_MAX (%d MiB) or %d MiB a file (she still has them): %s; raise it to keep them",
                    user, over.size(), budget >> 20, FILE_MAX >> 20, names(over));
        }
        if (!overOnly.isEmpty()) {
            Log.warn("%s: the conversation files only t3 still has take more than T3_KEEP_CONVERSATIONS_MAX (%d MiB); they stay until retention lets go of "
                    + "their snapshots: %s", user, budget >> 20, names(overOnly));
        }
        if (late > 0) Log.warn("%s: keeping her conversation files took over %d s; %d wait for the next save", user, PASS_DEADLINE.toSeconds(), late);
    }

    private static String names(List<String> keys) {
        return String.join(", ", keys.stream().limit(5).toList()) + (keys.size() > 5 ? ", …" : "");
    }
}

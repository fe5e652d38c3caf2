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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import store.History;
import store.SavedPane;
import store.SavedSession;
import store.StateStore;

/**
 * Keeps the file of every conversation a kept snapshot names, against its assistant's own
 * cleanup (claude deletes transcripts untouched for 30 days, FACTS): after a save, a copy (or
 * hard link) of each in {@link Kept}, refreshed when it changed, released when retention has
 * let go of every snapshot naming it, within {@code T3_KEEP_CONVERSATIONS_MAX} a user (the
 * conversations of newer snapshots first). The user's files are read as every file of hers:
 * no symlink, hers only, bounded, with a deadline.
 */
public final class Keeper {
    /** Every kept file is looked at again this often even when no snapshot changed: a conversation's file grows without one. */
    static final Duration RECHECK = Duration.ofHours(1);
    /** A copy of a file still being written is refreshed once it has rested this long: a busy conversation is copied once a burst, not every save. */
    static final Duration SETTLED = Duration.ofHours(1);
    /** No one file is kept past this, whatever the user's bound. */
    public static final long FILE_MAX = 256L << 20;

    private final Accounts.Account account;
    private final Kept kept;
    private final long budget;

    private Keeper(Accounts.Account account, Kept kept, long budget) {
        this.account = account;
        this.kept = kept;
        this.budget = budget;
    }

    /**
     * After a save of {@code account}: keeps what {@code history}'s snapshots name. Every pass
     * reads the newest snapshot ({@code newest}, named {@code newestName}); only the first (no
     * index yet) reads them all. Runs when {@code changed} (a snapshot was written or pruned) or
     * every {@link #RECHECK}. Never fails the save: what went wrong is said.
     */
    public static void afterSave(StateStore store, Accounts.Account account, long budget, History history, boolean changed, Instant now) {
        String user = account.name();
        try {
            // The index is written at the end of every pass: its mtime says when the last one ran, without reading it.
            Path index = store.keptIndex(user);
            if (!changed && budget > 0 && Files.isRegularFile(index, LinkOption.NOFOLLOW_LINKS)
                    && now.toEpochMilli() - Files.getLastModifiedTime(index, LinkOption.NOFOLLOW_LINKS).toMillis() < RECHECK.toMillis()) return;
            Kept kept = Kept.read(store, user);
            if (budget <= 0) {
                if (!kept.entries().isEmpty()) {
                    for (Kept.Entry e : kept.entries()) kept.release(e);
                    kept.write();
                    Log.info("%s: T3_KEEP_CONVERSATIONS_MAX is 0: released every kept conversation file", user);
                }
                return;
            }
            if (kept.found() && !changed && now.toEpochMilli() - kept.checked() < RECHECK.toMillis()) return;
            new Keeper(account, kept, budget).pass(history, now);
        } catch (IOException | RuntimeException e) {
            Log.warn("%s: the snapshot is saved; its conversation files are not kept this time: %s", user, Cli.describe(e));
        }
    }

    /** A conversation a snapshot names: its pane (assistant, id, home) and the newest snapshot naming it. */
    private record Named(SavedPane pane, String snapshot) {}

    private void pass(History history, Instant now) throws IOException {
        List<History.Snapshot> all = history.list();
        Map<String, Named> named = new LinkedHashMap<>();
        // Oldest first, so the newest snapshot naming a conversation is the one remembered.
        List<History.Snapshot> read = kept.found() ? all.stream().limit(1).toList() : reversed(all);
        for (History.Snapshot s : read) {
            try {
                for (SavedSession row : history.read(s).rows()) {
                    for (SavedPane p : row.conversations()) named.put(Kept.key(p.assistant(), p.conversation()), new Named(p, s.name()));
                }
            } catch (IOException e) {
                Log.warn("%s: cannot read snapshot %s to keep its conversations: %s", account.name(), s.file(), Cli.describe(e));
            }
        }
        String oldest = all.isEmpty() ? null : all.get(all.size() - 1).name();
        // Released: what no kept snapshot names any more (every snapshot naming it was older than the oldest left).
        int released = 0;
        for (Kept.Entry e : kept.entries()) {
            if (named.containsKey(e.key())) continue;
            if (oldest == null || e.seen().compareTo(oldest) < 0) {
                kept.release(e);
                released++;
            }
        }
        // Newer snapshots' conversations first, then the most recently written; each within the bound.
        List<Candidate> candidates = new ArrayList<>();
        Map<String, Candidate> byKey = new HashMap<>();
        for (Named n : named.values()) {
            Candidate c = candidate(n);
            if (c != null) {
                candidates.add(c);
                byKey.put(c.key(), c);
            }
        }
        for (Kept.Entry e : kept.entries()) {
            if (!byKey.containsKey(e.key())) candidates.add(new Candidate(e.key(), e.seen(), null, null, null, e.size(), e.modified(), e));
        }
        candidates.sort(Comparator.comparing(Candidate::seen).reversed().thenComparing(Comparator.comparingLong(Candidate::modified).reversed()));
        long used = 0;
        int fresh = 0, over = 0, gone = 0;
        List<String> overNames = new ArrayList<>();
        for (Candidate c : candidates) {
            long size = c.size();
            if (size > Math.min(budget, FILE_MAX) || used + size > budget) {
                over++;
                if (overNames.size() < 5) overNames.add(c.key());
                if (c.entry() != null) kept.release(c.entry());
                continue;
            }
            used += size;
            if (c.file() == null) {
                if (c.entry() != null) kept.put(c.entry().seen(c.seen()));
                else gone++;
                continue;
            }
            if (keep(c, now)) fresh++;
        }
        kept.checked(now.toEpochMilli());
        kept.write();
        if (fresh + released + over > 0) {
            Log.info("%s: conversation files kept: %d (%d MiB of %d), %d refreshed now, %d released (no kept snapshot names them)",
                    account.name(), kept.entries().size(), used >> 20, budget >> 20, fresh, released);
        }
        if (over > 0) {
            Log.warn("%s: %d conversation file(s) not kept, over T3_KEEP_CONVERSATIONS_MAX (%d MiB) or %d MiB a file: %s%s; raise it to keep them",
                    account.name(), over, budget >> 20, FILE_MAX >> 20, String.join(", ", overNames), over > overNames.size() ? ", …" : "");
        }
    }

    /**
     * A conversation to keep: its key, newest snapshot, assistant, the home and file it is in now
     * (null: gone, or not known now), its size and mtime, and its entry when one is kept already.
     */
    private record Candidate(String key, String seen, Assistant assistant, Path home, Path file, long size, long modified, Kept.Entry entry) {}

    /** What is known of the conversation {@code n} names; null for one this release cannot keep (an unknown assistant, a database row). */
    private Candidate candidate(Named n) {
        SavedPane p = n.pane();
        Optional<Assistant> a = Assistants.named(p.assistant());
        Kept.Entry entry = kept.entry(p.assistant(), p.conversation()).orElse(null);
        if (a.isEmpty() || !a.get().isId(p.conversation()) || !Kept.nameable(a.get().name(), p.conversation())) return null;
        Path homeDir = p.home() != null ? Path.of(p.home()) : a.get().defaultHome(account);
        Optional<Path> home = UserFiles.trustedDir(homeDir, account.uid());
        Optional<Path> file;
        try {
            file = home.flatMap(h -> a.get().file(account, h, p.conversation()));
        } catch (CannotTell e) {
            file = Optional.empty();
        }
        if (file.isEmpty()) {
            return entry == null ? new Candidate(Kept.key(p.assistant(), p.conversation()), n.snapshot(), a.get(), null, null, 0, 0, null)
                    : new Candidate(entry.key(), n.snapshot(), a.get(), null, null, entry.size(), entry.modified(), entry);
        }
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(file.get(), "unix:size,lastModifiedTime,fileKey", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return entry == null ? null : new Candidate(entry.key(), n.snapshot(), a.get(), null, null, entry.size(), entry.modified(), entry);
        }
        long size = ((Number) attrs.get("size")).longValue();
        long modified = ((java.nio.file.attribute.FileTime) attrs.get("lastModifiedTime")).toMillis();
        return new Candidate(Kept.key(p.assistant(), p.conversation()), n.snapshot(), a.get(), home.get(), file.get(), size, modified, entry);
    }

    /** Keeps {@code c}'s file now when it is not kept as it is (a copy of a file still being written: once it rests); true when it did. */
    private boolean keep(Candidate c, Instant now) throws IOException {
        Kept.Entry e = c.entry();
        String inode = inode(c.file());
        if (e != null && Files.exists(kept.file(e), LinkOption.NOFOLLOW_LINKS)) {
            boolean same = e.linked() ? inode.equals(e.inode()) : e.size() == c.size() && e.modified() == c.modified();
            boolean resting = now.toEpochMilli() - c.modified() >= SETTLED.toMillis();
            if (same || !e.linked() && !resting) {
                kept.put(new Kept.Entry(e.assistant(), e.id(), e.home(), e.path(), e.linked() ? c.size() : e.size(),
                        e.linked() ? c.modified() : e.modified(), e.inode(), e.linked(), c.seen()));
                return false;
            }
        }
        Kept.Entry made = new Kept.Entry(c.assistant().name(), c.key().substring(c.key().indexOf(' ') + 1), c.home().toString(),
                c.home().relativize(c.file()).toString(), c.size(), c.modified(), inode, false, c.seen());
        Path target = kept.file(made);
        StateStore.mkdirPrivate(target.getParent());
        Path tmp = target.resolveSibling(".t3-keep-" + Long.toHexString(System.nanoTime()) + ".tmp");
        try {
            boolean linked = link(c, tmp, inode);
            if (!linked && !UserFiles.copyBounded(c.file(), account.uid(), c.home(), Math.min(budget, FILE_MAX), tmp)) {
                Log.warn("%s: %s conversation %s: its file %s could not be kept (not hers, swapped, too big, or too slow); a copy kept before stays",
                        account.name(), c.assistant().name(), made.id(), c.file());
                if (e != null) kept.put(e.seen(c.seen()));
                return false;
            }
            if (!linked) Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            kept.put(new Kept.Entry(made.assistant(), made.id(), made.home(), made.path(), made.size(), made.modified(), made.inode(), linked, made.seen()));
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A hard link to her very file at {@code tmp}, where the state dir shares its file system;
     * believed only when the link is the inode that was looked at (a directory swapped meanwhile
     * would have given another), a regular file of hers. False: copy instead.
     */
    private boolean link(Candidate c, Path tmp, String inode) {
        try {
            Object dev = Files.getAttribute(c.file(), "unix:dev", LinkOption.NOFOLLOW_LINKS);
            if (!dev.equals(Files.getAttribute(tmp.getParent(), "unix:dev", LinkOption.NOFOLLOW_LINKS))) return false;
            Files.createLink(tmp, c.file());
            Map<String, Object> a = Files.readAttributes(tmp, "unix:uid,isRegularFile,fileKey", LinkOption.NOFOLLOW_LINKS);
            if (Boolean.TRUE.equals(a.get("isRegularFile")) && Integer.valueOf(account.uid()).equals(a.get("uid")) && inode.equals(String.valueOf(a.get("fileKey")))) {
                return true;
            }
            Files.deleteIfExists(tmp);
            return false;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the finally of keep tries again
            }
            return false;
        }
    }

    private static String inode(Path file) {
        try {
            return String.valueOf(Files.readAttributes(file, "unix:fileKey", LinkOption.NOFOLLOW_LINKS).get("fileKey"));
        } catch (IOException e) {
            return "";
        }
    }

    private static <T> List<T> reversed(List<T> l) {
        List<T> out = new ArrayList<>(l);
        java.util.Collections.reverse(out);
        return out;
    }
}

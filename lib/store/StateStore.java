package store;

import base.Accounts;
import base.AtomicFile;
import base.Drift;
import base.Log;
import base.Mode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One state dir, root-only (single-user mode: hers only), and where everything lives in it:
 * <pre>
 *   snapshots/USER/20261124T193000Z.tsv   history, one file per change (History)
 *   USER.tsv                              symlink to the newest of them
 *   USER.pending                          rows a restore still owes (Owed)
 *   USER.forgotten                        sessions closed on purpose (Forgotten)
 *   USER.heals                            what heal did, for the crash-loop limit (HealLedger)
 *   USER.menu                             the choices of the tmux menu shown last (Picker)
 *   kept/USER/ASSISTANT-ID                conversation files kept against their assistant's cleanup (keep.Kept)
 *   kept/USER.json                        what each of those is, and where it goes back
 *   .lock                                 one writing run at a time (RunLock)
 * </pre>
 * Every other class asks this one for a path.
 */
public final class StateStore {
    static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Duration TEMP_AGE = Duration.ofMinutes(10);

    private final Path dir;

    public StateStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() { return dir; }

    /** The pointer: a relative symlink to the user's newest snapshot (a plain file from older versions). */
    public Path pointer(String user) { return dir.resolve(user + ".tsv"); }

    public Path historyDir(String user) { return dir.resolve("snapshots").resolve(user); }

    /** What a restore owes ({@link Owed}); the file keeps its first name, which state dirs already hold. */
    public Path owedFile(String user) { return dir.resolve(user + ".pending"); }

    public Path forgottenFile(String user) { return dir.resolve(user + ".forgotten"); }

    public Path healFile(String user) { return dir.resolve(user + ".heals"); }

    /**
     * Where what heal did goes when {@link #healFile} cannot be written (a full disk): under /run
     * (single-user mode: her $XDG_RUNTIME_DIR; {@link Mode#runtimeDir}), ours only, one folder per
     * state dir. What heal acts on is of this boot only, which is what /run keeps: enough that an
     * old crash never undoes a later choice. Without a runtime dir: a folder in the state dir.
     */
    public Path healFallback(String user) {
        // String.hashCode is fixed by the language: the same folder for the same state dir in every run,
        // without a digest's start-up cost on every save (a collision would share a folder, not a file's meaning).
        String id = String.format("%08x", dir.toAbsolutePath().normalize().toString().hashCode());
        Path run = Mode.current().runtimeDir();
        return (run != null ? run : dir.resolve(".run")).resolve(id).resolve(user + ".heals");
    }

    /** What the user's panes showed at the last save, when T3_SCROLLBACK is on (see {@link Screens}). */
    public Path screensFile(String user) { return dir.resolve(user + ".screens"); }

    /** The choices of the tmux menu shown last (restore.Picker): what --pick N brings back. */
    public Path menuFile(String user) { return dir.resolve(user + ".menu"); }

    /** Where the user's kept conversation files lie (keep.Kept). */
    public Path keptDir(String user) { return dir.resolve("kept").resolve(user); }

    /** What each kept file is and where it goes back (keep.Kept). */
    public Path keptIndex(String user) { return dir.resolve("kept").resolve(user + ".json"); }

    /** The lock every writing run takes (RunLock). */
    public Path lockFile() { return dir.resolve(".lock"); }

    public History history(String user) { return new History(this, user); }

    public Owed owed(String user) { return new Owed(this, user); }

    public Forgotten forgotten(String user) { return new Forgotten(this, user); }

    /**
     * Makes sure the state dir exists as a real directory, mode 0700, and ours; removes temp files
     * a killed run left. Refuses a symlink or a directory someone else owns: others must not plant
     * or read snapshots.
     */
    public void prepare() throws IOException {
        mkdirPrivate(dir);
        List<Path> dirs = new ArrayList<>(List.of(dir));
        for (String parent : List.of("snapshots", "kept")) {
            try (DirectoryStream<Path> users = Files.newDirectoryStream(dir.resolve(parent))) {
                for (Path d : users) if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) dirs.add(d);
            } catch (java.nio.file.NoSuchFileException e) {
                // none yet
            }
        }
        for (Path d : dirs) {
            int removed = AtomicFile.removeLeftovers(d, TEMP_AGE);
            if (removed > 0) Log.info("removed %d temp file(s) a killed run left in %s", removed, d);
        }
    }

    /** Creates {@code d} (and missing parents) root-only, or tightens it; refuses one that is not ours. */
    public static void mkdirPrivate(Path d) throws IOException {
        if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(d.getParent());
            try {
                Files.createDirectory(d, PosixFilePermissions.asFileAttribute(DIR_MODE));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another user's restore, in a thread beside this one, made it first: checked below as ours
            }
        }
        if (!ownDir(d).permissions().equals(DIR_MODE)) Files.setPosixFilePermissions(d, DIR_MODE);
    }

    /** The users with a snapshot here: whom restore looks after when there is no user map. */
    public List<String> users() {
        Set<String> found = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.tsv")) {
            for (Path f : files) found.add(f.getFileName().toString().replaceFirst("\\.tsv$", ""));
        } catch (IOException e) {
            Log.warn("cannot list %s to find snapshots: %s", dir, e.getMessage());
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(dir.resolve("snapshots"))) {
            for (Path d : dirs) if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) found.add(d.getFileName().toString());
        } catch (IOException e) {
            // no history yet
        }
        return found.stream().filter(Accounts::validName).filter(u -> history(u).newest().isPresent()).toList();
    }

    /** The state dir's attributes, when it is a real directory of ours; else what to do about it. */
    private static PosixFileAttributes ownDir(Path d) throws IOException {
        PosixFileAttributes a = Files.readAttributes(d, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory()) throw new IOException(d + " is not a directory (a symlink or a file?); move it aside");
        int owner = (Integer) Files.getAttribute(d, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != Accounts.currentUid()) throw new IOException(d + " belongs to uid " + owner + ", not to us; chown it or choose another T3_STATE_DIR");
        return a;
    }

    /** The state dir missing or loose, files in it others could read or own, a pointer astray. */
    public List<Drift> drift() throws IOException {
        List<Drift> drifts = new ArrayList<>();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            drifts.add(new Drift(dir + " does not exist", this::prepare));
            return drifts;
        }
        dirDrift(dir, drifts);
        try (var files = Files.newDirectoryStream(dir, "*.{tsv,pending,forgotten,heals,screens,menu}")) {
            for (Path f : files) {
                String user = f.getFileName().toString().replaceFirst("\\.(tsv|pending|forgotten|heals|screens|menu)$", "");
                if (f.equals(pointer(user)) && Files.isSymbolicLink(f)) continue; // checked with the history below
                fileDrift(f, drifts);
            }
        }
        Path snapshots = dir.resolve("snapshots");
        if (Files.exists(snapshots, LinkOption.NOFOLLOW_LINKS)) {
            dirDrift(snapshots, drifts);
            try (var users = Files.newDirectoryStream(snapshots)) {
                for (Path d : users) {
                    dirDrift(d, drifts);
                    try (var files = Files.newDirectoryStream(d)) {
                        for (Path f : files) fileDrift(f, drifts);
                    }
                    history(d.getFileName().toString()).pointerDrift().ifPresent(drifts::add);
                }
            }
        }
        Path kept = dir.resolve("kept");
        if (Files.exists(kept, LinkOption.NOFOLLOW_LINKS)) {
            dirDrift(kept, drifts);
            try (var entries = Files.newDirectoryStream(kept)) {
                // A kept file may be a hard link to the user's own (hers, as she made it): only its folder must be ours.
                for (Path e : entries) {
                    if (Files.isDirectory(e, LinkOption.NOFOLLOW_LINKS)) dirDrift(e, drifts);
                    else fileDrift(e, drifts);
                }
            }
        }
        return drifts;
    }

    private static void dirDrift(Path d, List<Drift> drifts) throws IOException {
        if (Files.isSymbolicLink(d) || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            drifts.add(new Drift(d + " is not a directory (a symlink?); move it aside", () -> {
                throw new IOException("not removing " + d + " by itself: look at it, then move it aside");
            }));
            return;
        }
        PosixFileAttributes a = ownDir(d);
        if (!a.permissions().equals(DIR_MODE)) {
            drifts.add(new Drift(d + " is mode " + PosixFilePermissions.toString(a.permissions()) + ", should be rwx------",
                    () -> Files.setPosixFilePermissions(d, DIR_MODE)));
        }
    }

    private void fileDrift(Path f, List<Drift> drifts) throws IOException {
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            drifts.add(new Drift(f + " is not a regular file (a symlink?); removing it", () -> Files.delete(f)));
            return;
        }
        PosixFileAttributes fa = Files.readAttributes(f, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int owner = (Integer) Files.getAttribute(f, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (!fa.permissions().equals(FILE_MODE) || owner != Accounts.currentUid()) {
            drifts.add(new Drift(f + " is mode " + PosixFilePermissions.toString(fa.permissions()) + " owned by uid " + owner
                    + ", should be rw------- and ours", () -> {
                Files.setPosixFilePermissions(f, FILE_MODE);
                Files.setOwner(f, Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS));
            }));
        }
    }

    /** No state file comes near this (a session list, a ledger); a bigger file is not ours. */
    public static final long MAX_FILE = 64L << 20;

    /** Reads one of our own files, whole, at most {@link #MAX_FILE}. */
    public static byte[] readOwn(Path f) throws IOException {
        return readOwn(f, MAX_FILE);
    }

    /** Reads one of our own files, whole: the state dir is root-only, so only size is checked. */
    public static byte[] readOwn(Path f, long maxBytes) throws IOException {
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) throw new java.nio.file.NoSuchFileException(f.toString(), null, "missing or not a regular file");
        long size = Files.size(f);
        if (size > maxBytes) throw new IOException(f + " is " + size + " bytes, more than a state file can be (" + maxBytes + "); move it aside");
        return Files.readAllBytes(f);
    }

    /** Writes one of our files atomically, root-only. */
    public void writeOwn(Path f, String text) throws IOException {
        writeOwn(f, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** As above, bytes. */
    public void writeOwn(Path f, byte[] data) throws IOException {
        mkdirPrivate(f.getParent());
        AtomicFile.write(f, data, FILE_MODE);
    }
}

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The state files: {@code <state>/<user>.tsv}, root-only. A '#' header line, then one row per
 * session: name, cwd, conversation uuid or '-', the conversation's starting directory or '-',
 * its claude config root or '-' (the default ~/.claude). Tab, newline, CR and backslash inside a
 * field are written as \t \n \r \\. Rows of the older three-column form read too.
 */
public final class Snapshots {
    public record Row(String session, String cwd, String conversation, String conversationCwd, String claudeConfig) {
        public boolean hasConversation() { return conversation != null; }
    }

    /** A state file's rows, and the lines that could not be read (1-based), for the log. */
    public record Parsed(List<Row> rows, List<Roster.Problem> problems) {}

    public static final String HEADER = "# t3-tmux snapshot v1\tsession\tcwd\tconversation\tconversation_cwd\tclaude_config";
    private static final String NONE = "-";
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private Snapshots() {}

    public static String escape(String field) {
        StringBuilder b = new StringBuilder(field.length());
        for (char c : field.toCharArray()) {
            switch (c) {
                case '\\': b.append("\\\\"); break;
                case '\t': b.append("\\t"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }

    public static String unescape(String field) {
        StringBuilder b = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c != '\\' || i + 1 == field.length()) {
                b.append(c);
                continue;
            }
            char n = field.charAt(++i);
            switch (n) {
                case 't': b.append('\t'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                default: b.append(n);
            }
        }
        return b.toString();
    }

    public static String format(List<Row> rows) {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (Row r : rows) {
            b.append(escape(r.session())).append('\t')
             .append(escape(r.cwd())).append('\t')
             .append(orNone(r.conversation())).append('\t')
             .append(orNone(r.conversationCwd())).append('\t')
             .append(orNone(r.claudeConfig())).append('\n');
        }
        return b.toString();
    }

    /** Reads rows; only the first line may be a '#' header, so a session named "#x" is still a row. */
    public static Parsed parse(String text) {
        List<Row> rows = new ArrayList<>();
        List<Roster.Problem> problems = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isEmpty() || (i == 0 && line.startsWith("#"))) continue;
            String[] f = line.split("\t", -1);
            if (f.length < 3) {
                problems.add(new Roster.Problem(i + 1, "expected at least 3 tab-separated fields, found " + f.length));
                continue;
            }
            String session = unescape(f[0]);
            String uuid = f[2].isEmpty() || f[2].equals(NONE) ? null : f[2];
            if (session.isEmpty()) {
                problems.add(new Roster.Problem(i + 1, "empty session name"));
                continue;
            }
            if (uuid != null && !Conversations.isUuid(uuid)) {
                problems.add(new Roster.Problem(i + 1, "conversation id is not a UUID"));
                continue;
            }
            rows.add(new Row(session, unescape(f[1]), uuid, field(f, 3), field(f, 4)));
        }
        return new Parsed(rows, problems);
    }

    private static String field(String[] f, int i) {
        return i < f.length && !f[i].isEmpty() && !f[i].equals(NONE) ? unescape(f[i]) : null;
    }

    private static String orNone(String s) {
        return s == null ? NONE : escape(s);
    }

    public static Path file(Path stateDir, String user) {
        return stateDir.resolve(user + ".tsv");
    }

    /**
     * The rows the last restore could not bring back (its tmux failed): the next saves keep them
     * in the snapshot, so a failed restore never turns into a lost session.
     */
    public static Path pendingFile(Path stateDir, String user) {
        return stateDir.resolve(user + ".pending");
    }

    /**
     * Makes sure the state dir exists as a real directory, mode 0700, and (as root) owned by root.
     * Refuses a symlink or a directory someone else owns: others must not plant or read snapshots.
     */
    public static void prepareStateDir(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
        }
        if (!ownDir(dir).permissions().equals(DIR_MODE)) Files.setPosixFilePermissions(dir, DIR_MODE);
    }

    /** The state dir's attributes, when it is a real directory of ours; else what to do about it. */
    private static PosixFileAttributes ownDir(Path dir) throws IOException {
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory()) throw new IOException(dir + " is not a directory (a symlink or a file?); move it aside");
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != Accounts.currentUid()) throw new IOException(dir + " belongs to uid " + owner + ", not to us; chown it or choose another T3_STATE_DIR");
        return a;
    }

    /** The state dir missing, loose, or holding snapshot files others could read or own. */
    public static List<Drift> stateDrift(Path dir) throws IOException {
        List<Drift> drifts = new ArrayList<>();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            drifts.add(new Drift(dir + " does not exist", () -> prepareStateDir(dir)));
            return drifts;
        }
        PosixFileAttributes a = ownDir(dir);
        if (!a.permissions().equals(DIR_MODE)) {
            drifts.add(new Drift(dir + " is mode " + PosixFilePermissions.toString(a.permissions()) + ", should be rwx------",
                    () -> Files.setPosixFilePermissions(dir, DIR_MODE)));
        }
        try (var files = Files.newDirectoryStream(dir, "*.{tsv,pending}")) {
            for (Path f : files) {
                if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    drifts.add(new Drift(f + " is not a regular file (a symlink?); removing it", () -> Files.delete(f)));
                    continue;
                }
                PosixFileAttributes fa = Files.readAttributes(f, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                int fowner = (Integer) Files.getAttribute(f, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                if (!fa.permissions().equals(FILE_MODE) || fowner != Accounts.currentUid()) {
                    drifts.add(new Drift(f + " is mode " + PosixFilePermissions.toString(fa.permissions()) + " owned by uid " + fowner
                            + ", should be rw------- and ours", () -> {
                        Files.setPosixFilePermissions(f, FILE_MODE);
                        Files.setOwner(f, Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS));
                    }));
                }
            }
        }
        return drifts;
    }

    /** Writes atomically: temp file in the same dir, fsync, rename, fsync the dir. */
    public static void write(Path stateDir, String user, List<Row> rows) throws IOException {
        writeAtomically(stateDir, file(stateDir, user), rows);
    }

    /**
     * Records which rows a restore could not bring back, so the next saves keep them instead of
     * dropping what is not live: this run's failures, plus earlier ones this run (narrowed by
     * --session) did not try. None left removes the record.
     */
    public static void recordPending(Path stateDir, String user, List<Row> tried, List<Row> failed) throws IOException {
        Set<String> triedNames = new java.util.HashSet<>();
        tried.forEach(r -> triedNames.add(r.session()));
        List<Row> pending = new ArrayList<>(failed);
        readPending(stateDir, user).stream().filter(r -> !triedNames.contains(r.session())).forEach(pending::add);
        if (pending.isEmpty()) Files.deleteIfExists(pendingFile(stateDir, user));
        else writeAtomically(stateDir, pendingFile(stateDir, user), pending);
    }

    /** What a save writes: the live rows, then the rows a restore still owes whose session is not live. */
    public record WithPending(List<Row> all, List<Row> pending) {}

    public static WithPending withPending(Path stateDir, String user, List<Row> live) throws IOException {
        Set<String> liveNames = new java.util.HashSet<>();
        live.forEach(r -> liveNames.add(r.session()));
        List<Row> pending = readPending(stateDir, user).stream().filter(r -> !liveNames.contains(r.session())).toList();
        List<Row> all = new ArrayList<>(live);
        all.addAll(pending);
        return new WithPending(all, pending);
    }

    /** The rows the last restore could not bring back (none when there is no record). */
    public static List<Row> readPending(Path stateDir, String user) throws IOException {
        Path f = pendingFile(stateDir, user);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) return List.of();
        return parse(Files.readString(f, StandardCharsets.UTF_8)).rows();
    }

    private static void writeAtomically(Path stateDir, Path target, List<Row> rows) throws IOException {
        Path tmp = Files.createTempFile(stateDir, "." + target.getFileName() + ".", ".tmp", PosixFilePermissions.asFileAttribute(FILE_MODE));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(format(rows).getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename atomically within " + stateDir, e);
            }
            try (FileChannel dir = FileChannel.open(stateDir, StandardOpenOption.READ)) {
                dir.force(true);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads a state file written by us (or the older three-column form). */
    public static Parsed read(Path stateDir, String user) throws IOException {
        Path f = file(stateDir, user);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) throw new java.nio.file.NoSuchFileException(f.toString(), null, "no snapshot (or not a regular file)");
        return parse(Files.readString(f, StandardCharsets.UTF_8));
    }
}

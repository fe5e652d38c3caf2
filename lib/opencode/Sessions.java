//DEPS org.xerial:sqlite-jdbc:3.54.1.0

package opencode;

import assistant.CannotTell;
import base.UserFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteLimits;

/**
 * OpenCode's sessions: rows of table {@code session} in {@code <data>/opencode.db} (SQLite, WAL).
 * The database is the user's: root never opens it where it lies (SQLite would follow her links
 * and write its -shm beside it). Its file and WAL are copied, each bounded and read as her file
 * (no symlink, hers, the inode checked), into a folder of root's; a copy is believed only when
 * neither file changed meanwhile. The copy is hers to have crafted: it is opened read-only, its
 * {@code session} must be a plain table (no view, no generated column: SQL of hers), strings are
 * bounded, and the query has a deadline. A database that cannot be read so throws
 * {@link CannotTell}, never "no sessions". A read serves until the files change, and at least
 * for {@link #FRESH} whatever she does to them: a save that looks at many processes of hers copies
 * her database at most once in that time.
 */
final class Sessions {
    /** A top-level session: its id, the directory it was made in, when made and last updated. */
    /** One top-level session: its id, directory, times, and title (null where the schema has none). */
    record Row(String id, Path directory, Instant created, Instant updated, String title) {}

    /** A database or WAL larger than this is not copied: its sessions are not known (said). */
    static final long MAX_DB = 512L << 20;
    /** More sessions than are read: the newest, by their last update. */
    static final int MAX_ROWS = 100_000;
    /** The query's deadline: past it SQLite is interrupted. */
    static final Duration QUERY_DEADLINE = Duration.ofSeconds(5);
    /** How long one read of a user's sessions is reused even if her files changed. */
    static final Duration FRESH = Duration.ofSeconds(5);

    private record Read(Instant at, List<Object> stat, List<Row> rows) {}

    private static final Map<Path, Read> READ = new ConcurrentHashMap<>();
    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sqlite-deadline");
        t.setDaemon(true);
        return t;
    });

    private Sessions() {}

    /** Every top-level session of the database under {@code data} (her trusted {@code opencode} folder), newest first. */
    static List<Row> of(Path data, int uid) {
        Read known = READ.get(data);
        List<Object> stat = List.of(stat(data.resolve("opencode.db")), stat(data.resolve("opencode.db-wal")));
        if (known != null && (known.stat().equals(stat) || known.at().plus(FRESH).isAfter(Instant.now()))) return known.rows();
        List<Row> rows = copyAndRead(data, uid);
        if (READ.size() > 64) READ.clear(); // a long-lived JVM (the tests) keeps it bounded
        READ.put(data, new Read(Instant.now(), stat, rows)); // a failure threw: it is asked again next time
        return rows;
    }

    private static List<Row> copyAndRead(Path data, int uid) {
        Path db = data.resolve("opencode.db"), wal = data.resolve("opencode.db-wal");
        if (!Files.exists(db, LinkOption.NOFOLLOW_LINKS)) return List.of(); // no session made yet
        Path dir = null;
        try {
            dir = Files.createTempDirectory("t3-opencode-"); // 0700, root's
            for (int attempt = 1; ; attempt++) {
                List<Object> before = List.of(stat(db), stat(wal));
                Path copy = dir.resolve("opencode-" + attempt + ".db");
                if (!UserFiles.copyBounded(db, uid, data, MAX_DB, copy)) throw new CannotTell(db + " is not her regular file, is over " + (MAX_DB >> 20) + " MiB, or was too slow to read");
                // The WAL holds the newest rows (a session is made at a first prompt): without it whole, the copy is not believed.
                if (Files.exists(wal, LinkOption.NOFOLLOW_LINKS) && !UserFiles.copyBounded(wal, uid, data, MAX_DB, dir.resolve(copy.getFileName() + "-wal"))) {
                    throw new CannotTell(wal + " could not be copied whole");
                }
                if (before.equals(List.of(stat(db), stat(wal)))) return read(copy);
                if (attempt == 2) throw new CannotTell(db + " changed while it was copied, twice");
            }
        } catch (IOException | SQLException | RuntimeException | LinkageError e) {
            if (e instanceof CannotTell c) throw c;
            throw new CannotTell(db + ": " + e.getMessage());
        } finally {
            if (dir != null) delete(dir);
        }
    }

    private static List<Row> read(Path copy) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        List<Row> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy, config.toProperties())) {
            ((SQLiteConnection) c).getDatabase().limit(SQLiteLimits.SQLITE_LIMIT_LENGTH.getId(), 64 * 1024); // a directory, an id: no document
            try (Statement s = c.createStatement()) {
                s.execute("pragma trusted_schema = off"); // no function of hers runs from the schema
            }
            ScheduledFuture<?> deadline = DEADLINES.schedule(() -> interrupt(c), QUERY_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            try {
                plainTable(c);
                // A title is a nicety: a schema without one still names every session.
                String title = hasColumn(c, "title") ? "title" : "null";
                try (PreparedStatement q = c.prepareStatement("select id, directory, time_created, time_updated, " + title + " from session"
                        + " where parent_id is null order by time_updated desc limit " + MAX_ROWS);
                     ResultSet r = q.executeQuery()) {
                    while (r.next()) {
                        String id = r.getString(1), dir = r.getString(2);
                        if (!OpenCode.isSessionId(id) || dir == null || !dir.startsWith("/") || dir.indexOf('\0') >= 0) continue;
                        rows.add(new Row(id, Path.of(dir), Instant.ofEpochMilli(r.getLong(3)), Instant.ofEpochMilli(r.getLong(4)), r.getString(5)));
                    }
                }
            } finally {
                deadline.cancel(false);
            }
        }
        return List.copyOf(rows);
    }

    /** Whether table {@code session} has column {@code name}. */
    private static boolean hasColumn(Connection c, String name) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("select name from pragma_table_info('session')")) {
            while (r.next()) if (name.equals(r.getString(1))) return true;
        }
        return false;
    }

    /** {@code session} must be a table of stored columns: a view, a virtual table or a generated column would run SQL of hers. */
    private static void plainTable(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("select type, sql from sqlite_master where name = 'session'")) {
                if (!r.next() || !"table".equals(r.getString(1)) || r.getString(2) == null || r.getString(2).toUpperCase(java.util.Locale.ROOT).contains("VIRTUAL")) {
                    throw new CannotTell("its session table is not a plain table");
                }
            }
            try (ResultSet r = s.executeQuery("select hidden from pragma_table_xinfo('session')")) {
                while (r.next()) if (r.getInt(1) != 0) throw new CannotTell("its session table has generated or hidden columns");
            }
        }
    }

    private static void interrupt(Connection c) {
        try {
            ((SQLiteConnection) c).getDatabase().interrupt();
        } catch (SQLException | RuntimeException e) {
            // closed meanwhile
        }
    }

    private static Object stat(Path f) {
        try {
            Map<String, Object> a = Files.readAttributes(f, "unix:ino,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
            return List.of(a.get("ino"), a.get("size"), a.get("lastModifiedTime"), a.get("ctime"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static void delete(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temp folder of root's left behind: nothing of hers
        }
    }

    static Optional<Row> byId(List<Row> rows, String id) {
        return rows.stream().filter(r -> r.id().equals(id)).findFirst();
    }
}
